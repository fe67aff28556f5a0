using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

/// <summary>
/// A canvas's runner as the <see cref="RunnerPool"/> drives it: a <see cref="RunnerProcess"/>, or a test's. Times are
/// in <see cref="Environment.TickCount64"/> milliseconds, the runners' clock.
/// </summary>
public interface IRunner
{
    string Canvas { get; }
    int Pid { get; }
    /// <summary>Started, and taking runs.</summary>
    bool IsReady { get; }
    /// <summary>Gone or going: it takes no new runs.</summary>
    bool Closed { get; }
    /// <summary>Runs handed over and not finished.</summary>
    int Running { get; }
    /// <summary>When the last run was handed over or finished.</summary>
    long LastActive { get; }
    /// <summary>Completes once the runner is gone and its runs are settled, with why it ended.</summary>
    Task<RunnerExit> Ended { get; }

    /// <summary>Completes when the runner takes runs; faults if it died first or did not start in time.</summary>
    Task WaitReadyAsync(CancellationToken cancellationToken);

    /// <summary>The run is held (a <see cref="Cancel"/> finds it) by the time this returns its task.</summary>
    Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping);

    /// <summary>Forgets a retired version of a worker's code.</summary>
    void Unload(int key);

    /// <summary>
    /// Cancels the run of the event if this runner holds it: it ends cancelled, and is overdue past
    /// <paramref name="deadline"/>. False when it holds no such run.
    /// </summary>
    bool Cancel(Guid eventId, string by, long deadline);

    /// <summary>Kills the runner if a run is past its time-out and grace at <paramref name="now"/>.</summary>
    void KillOverdue(long now);

    /// <summary>Stops the runner; its runs go back to their queues.</summary>
    void Kill(string reason);
}
