using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Messaging;

/// <summary>The rules of an emit's debounce (API.md "Debounce"), checked wherever an emit comes in.</summary>
public static class Debounces
{
    /// <summary>The longest period: a day.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(1);

    /// <summary>How far a trailing run may be held back at most: as far as a delayed emit may be.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromDays(30);

    /// <summary>Why a debounced emit cannot also be delayed.</summary>
    public const string NoTime = "A debounced emit takes no delaySeconds or runAt: its period says when it runs.";

    /// <summary>The modes, as the API names them.</summary>
    public const string Trailing = "trailing", Leading = "leading";

    /// <summary>
    /// The debounce the four emit fields give (null: none), or the problem naming the field: a key and a period come
    /// together, the mode is <c>trailing</c> (the default) or <c>leading</c>, the period is over 0 and at most a day,
    /// and the cap (default ten periods) is at least the period and at most 30 days.
    /// </summary>
    public static (Debounce? Debounce, string? Problem) Parse(
        string? key,
        double? seconds,
        string? mode,
        double? maxSeconds)
    {
        if (key is null && seconds is null && mode is null && maxSeconds is null) return (null, null);
        if (key is null) return (null, "debounceKey is missing: debounceSeconds, debounceMode and " +
            "debounceMaxSeconds apply to a debounceKey.");
        if (OrderingKeys.Problem(key) is not null)
            return (null, $"debounceKey: the debounce key must be {OrderingKeys.Rule}.");
        if (seconds is not { } period) return (null, "debounceSeconds is missing: a debounceKey needs a period.");
        if (!double.IsFinite(period) || period <= 0 || period > MaxPeriod.TotalSeconds)
            return (null, $"debounceSeconds must be over 0 and at most {MaxPeriod.TotalSeconds:0} (a day).");
        if (mode is not (null or Trailing or Leading))
            return (null, $"debounceMode must be '{Trailing}' (the default) or '{Leading}'.");
        var max = maxSeconds ?? period * 10;
        if (!double.IsFinite(max) || max < period || max > MaxHold.TotalSeconds)
            return (null, $"debounceMaxSeconds must be at least debounceSeconds ({period}) and at most " +
                $"{MaxHold.TotalSeconds:0} (30 days).");
        return (new Debounce(key, TimeSpan.FromSeconds(period), mode != Leading,
            TimeSpan.FromSeconds(Math.Min(max, MaxHold.TotalSeconds))), null);
    }

    /// <summary>A handler's debounce, checked as the API checks one: null when it is valid, else why not.</summary>
    public static string? Problem(Debounce debounce) =>
        Parse(debounce.Key, debounce.Period.TotalSeconds, debounce.Mode, debounce.Max.TotalSeconds).Problem;
}
