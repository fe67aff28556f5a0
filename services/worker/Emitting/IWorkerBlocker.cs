namespace Workq.Worker.Emitting;

/// <summary>
/// How the <see cref="LoopGuard"/> blocks a runaway worker: stored and announced (<see cref="WorkerBlocker"/>), or
/// a test's.
/// </summary>
public interface IWorkerBlocker
{
    /// <summary>Blocks this incarnation of the worker with the reason, and tells every instance it changed.</summary>
    Task BlockAsync(string canvas, string worker, long incarnation, string reason, CancellationToken cancellationToken);
}
