namespace Workq.Client;

/// <summary>
/// The 202 answer to <see cref="WorkqControlClient.CancelEventAsync"/>: the event's status at that moment.
/// <c>cancelled</c> when it was queued, scheduled, sleeping or waiting (it never runs again); <c>running</c> when its
/// handler was running: the handler's <c>CancellationToken</c> is cancelled, and the event ends <c>cancelled</c> once
/// the handler returns or throws (or its runner is killed after the server's grace period).
/// </summary>
/// <param name="Id">The event's id.</param>
/// <param name="Status">The event's status when the cancel was taken: <c>cancelled</c> or <c>running</c>.</param>
public sealed record CancelAccepted(Guid Id, string Status)
{
    /// <summary>The event was cancelled at once; false while a running handler is still stopping.</summary>
    public bool IsCancelled => Status == "cancelled";
}
