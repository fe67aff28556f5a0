namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// An emit's debounce (API.md "Debounce"): emits to the same worker with the same <c>Key</c> within <c>Period</c>
/// collapse into one run. <c>Trailing</c> runs the last one, <c>Period</c> after the last emit but no later than
/// <c>Max</c> after the first; leading runs the first at once and drops the rest of the period.
/// </summary>
public sealed record Debounce(string Key, TimeSpan Period, bool Trailing, TimeSpan Max)
{
    /// <summary>A trailing debounce, held back at most ten periods (the default).</summary>
    public static Debounce Of(string key, TimeSpan period) => new(key, period, Trailing: true, period * 10);

    /// <summary>What an event's status, trace and stored row call its mode.</summary>
    public string Mode => Trailing ? "trailing" : "leading";
}
