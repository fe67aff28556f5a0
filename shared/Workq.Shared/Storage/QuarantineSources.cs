namespace Workq.Shared.Storage;

/// <summary>
/// Where the components that quarantine messages take them from (API.md "Quarantine", the <c>source</c> of an item).
/// </summary>
public static class QuarantineSources
{
    public const string DeadLetters = Messaging.Topology.DeadLetterQueue, Unhandled = Messaging.Topology
        .UnhandledQueue, ControlPlane = "control-plane",
        Scheduled = "scheduled-events", Crons = "crons", EventStatus = "event-status", Traces = "traces", WorkerCounters
            = "worker-counters",
        Metrics = "metrics";
}
