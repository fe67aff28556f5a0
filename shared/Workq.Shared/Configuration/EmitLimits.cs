using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>What an emit may be and how many events a canvas and its workers may have in flight.</summary>
public sealed class EmitLimits
{
    public int MaxEventBytes { get; init; } = 262_144;
    public int MaxEmitDepth { get; init; } = 1_000;
    /// <summary>Emits one handler run may make; the one past it throws.</summary>
    public int MaxEmitsPerEvent { get; init; } = 1_000;
    /// <summary>
    /// Events a worker's queue holds (its <c>x-max-length</c>); an emit past it is refused, never dropped.
    /// </summary>
    public int MaxQueuedPerWorker { get; init; } = 1_000_000;
    /// <summary>
    /// Delayed emits a worker may have waiting for their time (rows in PostgreSQL); one past it is refused with 429.
    /// </summary>
    public int MaxScheduledPerWorker { get; init; } = 100_000;
    /// <summary>
    /// WORKQ_MAX_STEP_BYTES: a durable step's result JSON, and a signal's value (API.md "Durable handlers"); at most
    /// an event's whole step state.
    /// </summary>
    public int MaxStepBytes { get; init; } = Handlers.Messaging.StepLimits.DefaultMaxStepBytes;
    /// <summary>Events per canvas the emitter accepts (a token bucket per canvas); null = no limit.</summary>
    public EmitRate? CanvasEmitRate { get; init; }

    public static EmitLimits From(IConfiguration config)
    {
        var defaults = new EmitLimits();
        return new EmitLimits
        {
            MaxEventBytes = Setting.Int(config, "WORKQ_MAX_EVENT_BYTES", defaults.MaxEventBytes),
            MaxEmitDepth = Setting.Int(config, "WORKQ_MAX_EMIT_DEPTH", defaults.MaxEmitDepth),
            MaxEmitsPerEvent = Setting.Int(config, "WORKQ_MAX_EMITS_PER_EVENT", defaults.MaxEmitsPerEvent),
            MaxQueuedPerWorker = Setting.Int(config, "WORKQ_MAX_QUEUED_PER_WORKER", defaults.MaxQueuedPerWorker),
            MaxScheduledPerWorker = Setting.Int(
                config,
                "WORKQ_MAX_SCHEDULED_PER_WORKER",
                defaults.MaxScheduledPerWorker),
            MaxStepBytes = Math.Clamp(Setting.Int(config, "WORKQ_MAX_STEP_BYTES", defaults.MaxStepBytes), 1,
                Handlers.Messaging.StepLimits.MaxStateBytes),
            CanvasEmitRate = EmitRate.Parse(config["WORKQ_CANVAS_EMIT_RATE"]),
        };
    }
}
