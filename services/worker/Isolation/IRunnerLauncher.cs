namespace Workq.Worker.Isolation;

/// <summary>
/// Starts a canvas's runner for the <see cref="RunnerPool"/>: a process (<see cref="RunnerLauncher"/>), or a test's.
/// </summary>
public interface IRunnerLauncher
{
    /// <summary>
    /// Returns once the runner is started; it may not be ready yet (<see cref="IRunner.WaitReadyAsync"/>).
    /// </summary>
    Task<IRunner> StartAsync(string canvas);
}
