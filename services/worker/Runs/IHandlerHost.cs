namespace Workq.Worker.Runs;

/// <summary>
/// Where handler code runs: in this process (<c>WORKQ_ISOLATION=none</c>) or in a runner process per canvas.
/// </summary>
public interface IHandlerHost
{
    Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping);

    /// <summary>The version was replaced or removed: nothing runs it again once its runs in flight finish.</summary>
    void Retire(HandlerVersion version);
}
