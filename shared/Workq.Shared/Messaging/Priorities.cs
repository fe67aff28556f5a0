using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Messaging;

/// <summary>
/// The names of the priorities (API.md "Priorities"), as emits, statuses, traces and queues spell them.
/// </summary>
public static class Priorities
{
    public const string High = "high", Normal = "normal", Low = "low";

    /// <summary>What a 400 says of a priority that is none of the three.</summary>
    public const string Rule = "'high', 'normal' (the default) or 'low'";

    /// <summary>The two with queues of their own, beside the worker's queue (which holds the normal ones).</summary>
    public static readonly Priority[] Queued = [Priority.High, Priority.Low];

    /// <summary>A priority's name; null for none of the three.</summary>
    public static Priority? Parse(string? name) => name switch
    {
        High => Priority.High,
        Normal or null => Priority.Normal,
        Low => Priority.Low,
        _ => null,
    };

    public static string Name(Priority priority) => priority switch
    {
        Priority.High => High,
        Priority.Low => Low,
        _ => Normal,
    };

    /// <summary>
    /// The binding of the worker's high or low queue on the canvas exchange: worker names hold no dots, so it never
    /// matches another worker's binding (nor a lane's, <c>{worker}.lane{i}</c>).
    /// </summary>
    public static string RoutingKey(string worker, Priority priority) => $"{worker}.{Name(priority)}";

    /// <summary>Served first: high, then normal, then low.</summary>
    public static int Rank(Priority priority) => priority switch
    {
        Priority.High => 0,
        Priority.Low => 2,
        _ => 1,
    };
}
