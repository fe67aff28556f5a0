namespace Workq.Testing;

/// <summary>
/// Where a Workq under test finds its broker: this machine's RabbitMQ (one node) or a cluster's nodes. Workq is given
/// every node, comma-separated, in <c>WORKQ_RABBITMQ_URL</c> and <c>WORKQ_RABBITMQ_MANAGEMENT_URL</c>.
/// </summary>
public sealed record TestBroker(IReadOnlyList<string> AmqpBases, IReadOnlyList<string> ManagementUrls)
{
    /// <summary>The broker in these variables (each one URI or a comma-separated list), or else this machine's.</summary>
    public static TestBroker FromEnvironment(string amqpVariable, string managementVariable) =>
        new(Split(LocalServers.RabbitMqUrl(amqpVariable)), Split(LocalServers.ManagementUrl(managementVariable)));

    /// <summary><c>WORKQ_RABBITMQ_URL</c> for a virtual host: every node's URI with it.</summary>
    public string AmqpUrl(string virtualHost) => string.Join(",", AmqpBases.Select(b => $"{b.TrimEnd('/')}/{Uri.EscapeDataString(virtualHost)}"));

    /// <summary><c>WORKQ_RABBITMQ_MANAGEMENT_URL</c>: every node's.</summary>
    public string ManagementUrl => string.Join(",", ManagementUrls);

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
