using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>Where the broker is, and how long a publish waits for it.</summary>
public sealed class BrokerOptions
{
    private static readonly string[] AmqpSchemes = ["amqp", "amqps"];
    private static readonly string[] ManagementSchemes = ["http", "https"];

    /// <summary>
    /// The broker's AMQP nodes (<c>WORKQ_RABBITMQ_URL</c>: one URI, or one per cluster node separated by commas).
    /// </summary>
    public BrokerNodes Amqp { get; init; }
        = BrokerNodes.Parse("amqp://guest:guest@127.0.0.1:5672/", "WORKQ_RABBITMQ_URL", AmqpSchemes);
    /// <summary>The same nodes' management API (<c>WORKQ_RABBITMQ_MANAGEMENT_URL</c>, likewise).</summary>
    public BrokerNodes Management { get; init; }
        = BrokerNodes.Parse("http://guest:guest@127.0.0.1:15672/", "WORKQ_RABBITMQ_MANAGEMENT_URL", ManagementSchemes);
    /// <summary>
    /// How long a publish waits for the broker's confirm before the emit is answered 503 (a node that does not answer).
    /// </summary>
    public TimeSpan PublishTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public static BrokerOptions From(IConfiguration config)
    {
        var defaults = new BrokerOptions();
        return new BrokerOptions
        {
            Amqp = config["WORKQ_RABBITMQ_URL"] is { } amqp
                ? BrokerNodes.Parse(amqp, "WORKQ_RABBITMQ_URL", AmqpSchemes)
                : defaults.Amqp,
            Management = config["WORKQ_RABBITMQ_MANAGEMENT_URL"] is { } management
                ? BrokerNodes.Parse(management, "WORKQ_RABBITMQ_MANAGEMENT_URL", ManagementSchemes)
                : defaults.Management,
            PublishTimeout = Setting.Seconds(config, "WORKQ_PUBLISH_TIMEOUT_SECONDS", defaults.PublishTimeout),
        };
    }
}
