using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>
/// Every component's settings, read from <c>WORKQ_*</c> variables at start (see README). Services are given only the
/// components they read (<see cref="OptionsServices.AddWorkqOptions"/> registers each one).
/// </summary>
public sealed class WorkqOptions
{
    public ServiceOptions Service { get; init; } = new();
    public BrokerOptions Broker { get; init; } = new();
    public EmitLimits Emit { get; init; } = new();
    public TraceStoreOptions Traces { get; init; } = new();
    public EventStatusOptions EventStatus { get; init; } = new();
    public RetentionOptions Retention { get; init; } = new();
    public CompilerOptions Compiler { get; init; } = new();
    public HandlerOptions Handlers { get; init; } = new();
    public PoolOptions Pool { get; init; } = new();
    public PriorityOptions Priorities { get; init; } = new();

    /// <summary>Reads every component; the first bad value throws, naming its variable.</summary>
    public static WorkqOptions From(IConfiguration config, int defaultPort) => new()
    {
        Service = ServiceOptions.From(config, defaultPort),
        Broker = BrokerOptions.From(config),
        Emit = EmitLimits.From(config),
        Traces = TraceStoreOptions.From(config),
        EventStatus = EventStatusOptions.From(config),
        Retention = RetentionOptions.From(config),
        Compiler = CompilerOptions.From(config),
        Handlers = HandlerOptions.From(config),
        Pool = PoolOptions.From(config),
        Priorities = PriorityOptions.From(config),
    };
}
