namespace Workq.Testing;

/// <summary>
/// Where this machine's RabbitMQ and PostgreSQL are, and with which users, for the tests and the bench: the variables
/// that ./test.sh and ./bench.sh export, or else the credentials scripts/servers.sh generated in .run/servers.env (so a
/// test run started from an IDE finds them too). Two users each: the services' (what every service under test is given:
/// its own virtual host and database only) and the servers' administrator (who makes those). Where only one of a pair
/// of variables is set, it names servers of one's own with one user for both, as before there were two.
/// </summary>
public static class LocalServers
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Generated = new(() => ReadRunFile("servers.env"));
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Images = new(() => ReadRunFile("images.env"));

    /// <summary>
    /// A connection string to the "postgres" database as a role that may create databases owned by the services' role.
    /// </summary>
    public static string PostgresAdmin(string variable)
        => Variable(variable) ?? Setting("WORKQ_SERVERS_ADMIN_POSTGRES");

    /// <summary>A connection string as the services' role (its database is replaced by each Workq's own).</summary>
    public static string Postgres(string variable, string adminVariable) =>
        Variable(variable) ?? Variable(adminVariable) ?? Setting("WORKQ_POSTGRES");

    /// <summary>The broker's AMQP URI(s) as the services' user.</summary>
    public static string RabbitMqUrl(string variable) => Variable(variable) ?? Setting("WORKQ_RABBITMQ_URL");

    /// <summary>The management API's URL(s) as the services' user.</summary>
    public static string ManagementUrl(string variable)
        => Variable(variable) ?? Setting("WORKQ_RABBITMQ_MANAGEMENT_URL");

    /// <summary>
    /// The management API's URL as an administrator, who makes virtual hosts and opens them to the services' user.
    /// </summary>
    public static string AdminManagementUrl(string variable, string managementVariable) =>
        Variable(variable) ?? Variable(managementVariable) ?? Setting("WORKQ_SERVERS_ADMIN_RABBITMQ_MANAGEMENT_URL");

    /// <summary>
    /// The RabbitMQ image scripts/images.sh built for the cluster tests (WORKQ_TEST_RABBITMQ_IMAGE, or
    /// .run/images.env), or null when none was built.
    /// </summary>
    public static string? RabbitMqImage =>
        Environment.GetEnvironmentVariable("WORKQ_TEST_RABBITMQ_IMAGE") is { Length: > 0 } image ? image
        : Images.Value.TryGetValue("WORKQ_TEST_RABBITMQ_IMAGE", out var built) ? built : null;

    /// <summary>The user and password in a broker URL (AMQP or management).</summary>
    public static (string User, string Password) Credentials(string url)
    {
        var userInfo = Uri.UnescapeDataString(new Uri(url).UserInfo);
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
            throw new InvalidOperationException(
                "A broker URL must carry a user and password (user:password@host), "
                + $"not '{new Uri(url).GetLeftPart(UriPartial.Authority)}'.");
        return (userInfo[..colon], userInfo[(colon + 1)..]);
    }

    private static string? Variable(string name)
        => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static string Setting(string name) =>
        Generated.Value.TryGetValue(name, out var value)
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set and .run/servers.env has none: run scripts/servers.sh (or ./test.sh) first.");

    /// <summary>
    /// The NAME='value' lines a script wrote to .run/<paramref name="name"/>, found from the build output upwards.
    /// </summary>
    private static IReadOnlyDictionary<string, string> ReadRunFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var file = Path.Combine(dir.FullName, ".run", name);
            if (!File.Exists(file)) continue;
            return File.ReadAllLines(file)
                .Where(line => line.Length > 0 && line[0] != '#' && line.Contains('=', StringComparison.Ordinal))
                .Select(line => (Key: line[..line.IndexOf('=', StringComparison.Ordinal)], Value: line[
                    (line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim('\'')))
                .ToDictionary(p => p.Key, p => p.Value);
        }
        return new Dictionary<string, string>();
    }
}
