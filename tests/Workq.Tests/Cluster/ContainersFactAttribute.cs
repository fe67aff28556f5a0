namespace Workq.Tests.Cluster;

/// <summary>
/// A test that needs RabbitMQ in containers. Skipped, with the reason, where scripts/images.sh has not built the image
/// or no Docker engine runs, and when <c>WORKQ_TEST_CLUSTER=0</c> (the switch to leave them out of a local run).
/// </summary>
public sealed class ContainersFactAttribute : FactAttribute
{
    public static string? SkipReason =>
        Environment.GetEnvironmentVariable("WORKQ_TEST_CLUSTER") == "0"
            ? "WORKQ_TEST_CLUSTER=0: the container tests are switched off"
            : RabbitNodes.Unavailable;

    public ContainersFactAttribute()
    {
        if (SkipReason is { } reason) Skip = reason;
    }
}
