using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Workq.Shared.Messaging;

namespace Workq.Shared.Telemetry;

/// <summary>
/// Workq's own spans and instruments (ActivitySource and Meter "Workq"). Spans follow the OpenTelemetry
/// messaging conventions: an emit is a <c>publish</c> (Producer), a handler run a <c>process</c> (Consumer)
/// whose parent is the event's traceparent. Nothing here costs more than a listener check when no
/// provider or listener is attached.
/// </summary>
public static class WorkqDiagnostics
{
    public const string Name = "Workq";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Processed = Meter.CreateCounter<long>(
        "workq.events.processed",
        "{event}",
        "Handler runs finished, by outcome.");
    public static readonly Counter<long> Failed = Meter.CreateCounter<long>(
        "workq.events.failed",
        "{event}",
        "Handler runs that threw or timed out.");
    public static readonly Counter<long> TimedOut = Meter.CreateCounter<long>(
        "workq.events.timed_out",
        "{event}",
        "Handler runs cancelled by WORKQ_HANDLER_TIMEOUT_SECONDS.");
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>(
        "workq.events.dead_lettered",
        "{event}",
        "Events kept as dead letters.");
    /// <summary>
    /// By <c>workq.source</c>: the queue or component that gave up on the message (API.md "Quarantine").
    /// </summary>
    public static readonly Counter<long> Quarantined = Meter.CreateCounter<long>("workq.quarantined", "{message}",
        "Messages an internal consumer gave up on and moved to the quarantine.");
    public static readonly Counter<long> Dropped = Meter.CreateCounter<long>("workq.events.dropped", "{event}",
        "Deliveries of a deleted canvas or worker incarnation, dropped unrun.");
    public static readonly Histogram<double> HandlerDuration = Meter.CreateHistogram<double>(
        "workq.handler.duration",
        "ms",
        "How long a handler ran.");
    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>(
        "workq.queue.wait",
        "ms",
        "From enqueue to the handler's start.");
    public static readonly Counter<long> RunnerStarts = Meter.CreateCounter<long>(
        "workq.runner.starts",
        "{process}",
        "Runner processes started, by canvas.");
    public static readonly Counter<long> RunnerCrashes = Meter.CreateCounter<long>(
        "workq.runner.crashes",
        "{process}",
        "Runner processes that died of their handlers' doing.");
    public static readonly Counter<long> RunnerKills = Meter.CreateCounter<long>(
        "workq.runner.kills",
        "{process}",
        "Runner processes killed by the worker service (a run past its time-out).");
    public static readonly Histogram<double> RunnerColdStart = Meter.CreateHistogram<double>(
        "workq.runner.cold_start",
        "ms",
        "From starting a runner process to its taking runs.");
    public static readonly Counter<long> EmitRequests = Meter.CreateCounter<long>(
        "workq.emit.requests",
        "{request}",
        "Emit API requests, by HTTP status.");
    public static readonly Counter<long> EmitRejections = Meter.CreateCounter<long>(
        "workq.emit.rejections",
        "{request}",
        "Emit API requests answered with an error status.");

    private static readonly ConcurrentDictionary<object, (string Canvas, string Worker,
        Func<long> Read)> InFlightSources = new();

    static WorkqDiagnostics()
    {
        // Each worker instance reports its own in-flight events; the sum over instances is the worker's.
        Meter.CreateObservableGauge(
            "workq.events.in_flight",
            ObserveInFlight,
            "{event}",
            "Events being handled by this instance.");
    }

    /// <summary>
    /// Reports <paramref name="read"/> as this instance's in-flight count for a worker until disposed.
    /// </summary>
    public static IDisposable TrackInFlight(string canvas, string worker, Func<long> read)
    {
        var handle = new InFlightHandle();
        InFlightSources[handle] = (canvas, worker, read);
        return handle;
    }

    private static IEnumerable<Measurement<long>> ObserveInFlight()
    {
        foreach (var (_, source) in InFlightSources)
            yield return new Measurement<long>(source.Read(), Tags(source.Canvas, source.Worker));
    }

    private sealed class InFlightHandle : IDisposable
    {
        public void Dispose() => InFlightSources.TryRemove(this, out _);
    }

    public static TagList Tags(string canvas, string worker)
        => new() { { "workq.canvas", canvas }, { "workq.worker", worker } };

    public static TagList Tags(string canvas, string worker, string outcome) =>
        new() { { "workq.canvas", canvas }, { "workq.worker", worker }, { "workq.outcome", outcome } };

    /// <summary>
    /// The emit of one event to <paramref name="exchange"/>, parented on the envelope's traceparent (or the current
    /// span).
    /// </summary>
    public static Activity? StartPublish(in EventEnvelope envelope, string exchange)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext.TryParse(envelope.TraceParent, null, out var parent);
        var activity = Source.StartActivity($"publish {exchange}", ActivityKind.Producer, parent);
        if (activity is { IsAllDataRequested: true }) SetMessagingTags(activity, "publish", "send", exchange, envelope);
        return activity;
    }

    /// <summary>
    /// A handler run. Its parent is the event's traceparent, so the run joins the emitter's trace; the
    /// broker client's own deliver span (current here when subscribed) starts a trace of its own and is linked.
    /// </summary>
    public static Activity? StartProcess(in EventEnvelope envelope, string queue, int attempt)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext.TryParse(envelope.TraceParent, null, isRemote: true, out var parent);
        ActivityLink[]? links = parent != default && Activity.Current is { } deliver
            ? [new ActivityLink(deliver.Context)]
            : null;
        var activity = Source.StartActivity(ActivityKind.Consumer, parent, links: links, name: $"process {queue}");
        if (activity is { IsAllDataRequested: true })
        {
            SetMessagingTags(activity, "process", "process", queue, envelope);
            activity.SetTag("workq.attempt", attempt);
        }
        return activity;
    }

    private static void SetMessagingTags(
        Activity activity,
        string operation,
        string operationType,
        string destination,
        in EventEnvelope envelope) =>
        activity.SetTag("messaging.system", "rabbitmq")
            .SetTag("messaging.operation.name", operation)
            .SetTag("messaging.operation.type", operationType)
            .SetTag("messaging.destination.name", destination)
            .SetTag("messaging.rabbitmq.destination.routing_key", envelope.Worker)
            .SetTag("messaging.message.id", envelope.Id.ToString())
            .SetTag("workq.canvas", envelope.Canvas)
            .SetTag("workq.worker", envelope.Worker)
            .SetTag("workq.depth", envelope.Depth);
}
