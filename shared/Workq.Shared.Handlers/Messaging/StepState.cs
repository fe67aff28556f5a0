namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// What an event's earlier runs left (API.md "Durable handlers"): each finished step's result JSON, each sleep's and
/// wait's end, by key; and the signals sent to it before its wait began, by name.
/// </summary>
public sealed record StepState(IReadOnlyDictionary<string, byte[]> Steps, IReadOnlyDictionary<string, byte[]> Signals)
{
    public static readonly StepState Empty = new(new Dictionary<string, byte[]>(), new Dictionary<string, byte[]>());
}
