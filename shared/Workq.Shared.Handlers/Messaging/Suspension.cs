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
}
