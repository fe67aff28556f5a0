namespace Workq.Client;

/// <summary>
/// The 202 answer to <see cref="WorkqControlClient.SignalAsync"/>. <c>State</c> is <c>resumed</c> when the event was
/// waiting for the signal (it runs again now, and its <c>WaitFor</c> returns the value), or <c>kept</c> when it was not
/// waiting yet (queued, running or sleeping): the signal is kept for 24 hours and its next <c>WaitFor</c> of that name
/// returns it at once.
/// </summary>
/// <param name="Id">The event's id.</param>
/// <param name="Signal">The signal's name.</param>
/// <param name="State"><c>resumed</c> or <c>kept</c>.</param>
public sealed record SignalAccepted(Guid Id, string Signal, string State)
{
    /// <summary>The event was waiting for this signal and runs again now.</summary>
    public bool Resumed => State == "resumed";
}
