using System.Diagnostics;
using Workq.Runner;
using Workq.Shared.Handlers.Isolation;

// A runner process: the worker service starts one per canvas and hands it that canvas's events over stdin; results,
// logs and emits go back over stdout. It holds no credentials (its environment is SandboxEnvironment's), loads
// compiled handlers only, and may be killed at any moment: the worker service decides what becomes of its runs.

// In the OS sandbox, its own seccomp filter (no execve) before anything else; the worker's start-up probe ends here.
if (SandboxEntry.Enter(args) is { } probed) return probed;

// A catastrophic regular expression stops after a second instead of holding a core.
AppContext.SetData("REGEX_DEFAULT_MATCH_TIMEOUT", TimeSpan.FromSeconds(1));

await using var stdout = Console.OpenStandardOutput();
using var stdin = Console.OpenStandardInput();
var input = new FrameInput(stdin);
if (input.Read() is not { Type: InitFrame.Type } init) return 2;
var settings = InitFrame.Read(init.Payload.Span);
// A cap on threads: handlers that block them starve their own canvas only, and a watchdog in the supervisor ends that.
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMaxThreads(Math.Max(settings.MaxThreads, minWorkers), Math.Max(settings.MaxThreads, minIo));

await using var output = new FrameOutput(stdout, synchronous: true);
var runs = new HandlerRuns(settings, output);
new ReadyFrame(Environment.ProcessId).Write(output);

// Reading stays on this thread, off the thread pool, so that the runner hears the supervisor even when handlers starve
// the pool.
try
{
    while (input.Read() is { } frame) runs.Dispatch(frame.Type, frame.Payload.Span);
}
catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException)
{
    Console.Error.WriteLine($"runner: {e.Message}");
}
// The supervisor stopped or died: nobody would take these results. Handler code may hold threads, so no orderly exit.
Console.Error.WriteLine($"runner: {RunnerProtocol.OrphanedExit}");
Process.GetCurrentProcess().Kill();
return 0;
