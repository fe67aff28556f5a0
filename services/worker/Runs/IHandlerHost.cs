namespace Workq.Worker.Runs;

/// <summary>
/// Where handler code runs: in this process (<c>WORKQ_ISOLATION=none</c>) or in a runner process per canvas.
/// </summary>
public interface IHandlerHost
{
    Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping);

    /// <summary>The version was replaced or removed: nothing runs it again once its runs in flight finish.</summary>
    void Retire(HandlerVersion version);

    /// <summary>
    /// Cancels the run of the event if it runs here (API.md "Cancel"): its token is cancelled, and it ends cancelled,
    /// stopped by force past WORKQ_CANCEL_GRACE_SECONDS where the host can; false when it does not run here.
    /// </summary>
    bool Cancel(string canvas, Guid eventId, string by);
}
