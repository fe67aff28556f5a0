namespace Workq.Testing;

/// <summary>
/// Where a Workq under test finds its broker: this machine's RabbitMQ (one node) or a cluster's nodes. Workq is given
/// every node, comma-separated, in <c>WORKQ_RABBITMQ_URL</c> and <c>WORKQ_RABBITMQ_MANAGEMENT_URL</c>, as the services'
/// user.
/// </summary>
public sealed record TestBroker(IReadOnlyList<string> AmqpBases, IReadOnlyList<string> ManagementUrls)
{
    /// <summary>
    /// The management API as a user who may make virtual hosts and open them to <see cref="ServiceUser"/>: this
    /// machine's administrator. By default the first node's, as the services have it: a broker in a container has one
    /// user, an administrator.
    /// </summary>
    public string AdminManagementUrl { get; init; } = ManagementUrls[0];

    /// <summary>The user the services sign in as.</summary>
    public string ServiceUser => LocalServers.Credentials(AmqpBases[0]).User;

    /// <summary>
    /// The broker in these variables (each one URI or a comma-separated list), or else this machine's.
    /// </summary>
    public static TestBroker FromEnvironment(string amqpVariable, string managementVariable, string adminVariable) =>
        new(Split(LocalServers.RabbitMqUrl(amqpVariable)), Split(LocalServers.ManagementUrl(managementVariable)))
        {
            AdminManagementUrl = Split(LocalServers.AdminManagementUrl(adminVariable, managementVariable))[0],
        };

    /// <summary><c>WORKQ_RABBITMQ_URL</c> for a virtual host: every node's URI with it.</summary>
    public string AmqpUrl(string virtualHost)
        => string.Join(",", AmqpBases.Select(b => $"{b.TrimEnd('/')}/{Uri.EscapeDataString(virtualHost)}"));

    /// <summary><c>WORKQ_RABBITMQ_MANAGEMENT_URL</c>: every node's.</summary>
    public string ManagementUrl => string.Join(",", ManagementUrls);

    private static string[] Split(string value)
        => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
