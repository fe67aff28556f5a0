namespace Workq.Bench.Reporting;

/// <summary>
/// Issue 14: batch throughput by worker instance count, on <paramref name="Broker"/> (<c>local</c> or <c>cluster</c>)
/// of <paramref name="BrokerNodes"/> nodes.
/// </summary>
public sealed record InstancesResult(string Broker, int BrokerNodes, IReadOnlyList<InstancesPass> Passes);
