using Workq.Client;

namespace Workq.Tests.Models;

/// <summary>
/// A live worker instance with what Workq.Client's <c>WorkerInstance</c> leaves untyped: how it isolates handler code,
/// the OS sandbox its runners start in, and its runner processes (one per canvas it has run).
/// </summary>
public sealed record InstanceDetail(
    Guid Id,
    string Host,
    int Pid,
    DateTimeOffset LastSeen,
    IReadOnlyList<string> Canvases,
    IReadOnlyList<InstanceConsumer> Consumers,
    string? Isolation,
    IReadOnlyList<InstanceDetail.Runner>? Runners,
    string? Sandbox)
{
    public sealed record Runner(string Canvas, string State, int Restarts, int Crashes);
}
