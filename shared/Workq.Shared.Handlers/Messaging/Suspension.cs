namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// A run that ended in a <c>Sleep</c> or <c>WaitFor</c> (API.md "Durable handlers"): the event runs again from the top
/// at <c>Until</c> (a wait's time-out), or when <c>WaitName</c> is signalled. <c>Key</c> is the sleep's or wait's place
/// in the run, under which the trusted side keeps when it ends.
/// </summary>
public readonly record struct Suspension(SuspensionKind Kind, string Key, DateTimeOffset Until, string? WaitName = null)
{
    /// <summary>The event status it leaves the event in: <c>sleeping</c> or <c>waiting</c>.</summary>
    public string Status => Kind == SuspensionKind.Wait ? "waiting" : "sleeping";

    /// <summary>
    /// Null when a handler's <c>Sleep</c> or <c>WaitFor</c> could have made this at <paramref name="now"/>; else what
    /// is wrong with it. The worker asks it of what a runner sends: a runner holds hostile code.
    /// </summary>
    public string? Problem(DateTimeOffset now)
    {
        if (Until - now > StepLimits.MaxAhead + TimeSpan.FromMinutes(1)) return $"it ends at {Until:O}, past 30 days";
        if (Kind == SuspensionKind.Sleep)
            return WaitName is null && Key.StartsWith("sleep#", StringComparison.Ordinal) ? null : $"sleep key '{Key}'";
        if (StepLimits.NameProblem(WaitName) is { } name) return $"signal name: {name}";
        return Key.StartsWith($"wait:{WaitName}#", StringComparison.Ordinal) ? null : $"wait key '{Key}'";
    }
}
