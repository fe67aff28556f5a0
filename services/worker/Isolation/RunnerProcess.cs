using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.Isolation;
using Workq.Worker.Consuming;
using Workq.Worker.Recording;

namespace Workq.Worker.Isolation;

/// <summary>
/// One runner process and the runs it holds. It is never asked to stop a run: past a run's time-out the supervisor kills
/// the process, and its end settles every run it held (<see cref="Ended"/>).
/// </summary>
public sealed class RunnerProcess
{
    private const int StderrLinesKept = 12;
    // The read loop ended on its own: the process died (or wrote garbage), which makes it a crash, not a kill of ours.
    private const string ChannelClosed = "its channel closed";

    private readonly Process process;
    private readonly FrameOutput output;
    private readonly FrameInput input;
    private readonly RunnerOptions options;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<long, Pending> pending = new();
    private readonly HashSet<int> loaded = [];
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> stderr = new();
    private readonly Stopwatch sinceStart = Stopwatch.StartNew();
    private readonly RunnerCgroup? cpu;
    private bool stackOverflow;
    private bool outOfMemory;
    private long lastRunId;
    private string? killReason;
    // Set under the pending lock once the process is gone: a run handed over after that would never be settled.
    private bool closed;
    private HashSet<long> overdue = [];

    private RunnerProcess(string canvas, Process process, RunnerOptions options, RunnerCgroup? cpu, ILogger logger)
    {
        Canvas = canvas;
        Pid = process.Id;
        this.process = process;
        this.options = options;
        this.cpu = cpu;
        this.logger = logger;
        output = new FrameOutput(process.StandardInput.BaseStream);
        input = new FrameInput(process.StandardOutput.BaseStream);
        using (var init = output.Begin(RunnerProtocol.Init))
        {
            init.String(canvas);
            init.String(options.EgressAllow);
            init.Int(options.Threads);
        }
        Ended = ReadAsync();
    }

    public string Canvas { get; }
    public int Pid { get; }
    public bool IsReady => ready.Task.IsCompletedSuccessfully && !Closed;
    /// <summary>The process is gone or going: it takes no new runs, and its end settles the ones it holds.</summary>
    public bool Closed => Volatile.Read(ref closed);
    public int Running => pending.Count;
    /// <summary>When the last run was handed over or finished, in <see cref="Environment.TickCount64"/> milliseconds.</summary>
    public long LastActive { get; private set; } = Environment.TickCount64;
    /// <summary>Completes once the process is gone and every run it held is settled, with why it ended (null: stopped when idle).</summary>
    public Task<RunnerExit> Ended { get; }

    /// <summary>Starts the canvas's runner in its cgroup and, unless <c>WORKQ_SANDBOX=off</c>, its sandbox (<see cref="RunnerLaunch"/>).</summary>
    public static async Task<RunnerProcess> StartAsync(string canvas, RunnerOptions options, ILogger logger)
    {
        var cgroup = options.Cgroups?.Create(canvas, logger);
        var process = new Process { StartInfo = RunnerLaunch.StartInfo(options, cgroup) };
        try
        {
            await RunnerLaunch.StartAsync(process);
        }
        catch
        {
            process.Dispose();
            cgroup?.Dispose();
            throw;
        }
        var runner = new RunnerProcess(canvas, process, options, cgroup, logger);
        process.ErrorDataReceived += (_, e) => runner.OnStderr(e.Data);
        process.BeginErrorReadLine();
        return runner;
    }

    /// <summary>Completes when the runner takes runs; faults if it died first or did not start in time.</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken) => ready.Task.WaitAsync(options.StartupTimeout, cancellationToken);

    public async Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping)
    {
        var id = Interlocked.Increment(ref lastRunId);
        var waiting = new Pending(run, Environment.TickCount64 + (long)(run.Timeout + options.TimeoutGrace).TotalMilliseconds, stopping);
        lock (pending)
        {
            if (closed) return new HandlerOutcome(RunOutcome.Requeue, TimeSpan.Zero, ErrorMessage: "the canvas's runner was stopping");
            pending[id] = waiting;
        }
        LastActive = Environment.TickCount64;
        try
        {
            lock (loaded)
            {
                if (loaded.Add(version.Key))
                {
                    using var load = output.Begin(RunnerProtocol.Load);
                    load.Int(version.Key);
                    load.Bytes(version.Assembly);
                }
            }
            var envelope = run.Envelope;
            using (var frame = output.Begin(RunnerProtocol.Run))
            {
                frame.Long(id);
                frame.Int(version.Key);
                frame.Guid(envelope.Id);
                frame.String(envelope.Worker);
                frame.Long(envelope.EnqueuedAt.UtcTicks);
                frame.Int(run.Attempt);
                frame.Int(envelope.Depth);
                frame.Int((int)Math.Min(int.MaxValue, run.Timeout.TotalMilliseconds));
                frame.Bytes(run.Body);
            }
        }
        catch (IOException)
        {
            // The process is going: its end settles this run with the others.
        }
        try
        {
            return await waiting.Outcome.Task.WaitAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            pending.TryRemove(id, out _);
            return HandlerOutcome.ShuttingDown;
        }
        finally
        {
            LastActive = Environment.TickCount64;
        }
    }

    public void Unload(int key)
    {
        lock (loaded)
        {
            if (!loaded.Remove(key)) return;
            try
            {
                using var unload = output.Begin(RunnerProtocol.Unload);
                unload.Int(key);
            }
            catch (IOException)
            {
                // Gone: nothing to unload.
            }
        }
    }

    /// <summary>
    /// Kills the runner once runs passed their time-out and grace: the handler ignored its token and nothing else stops it.
    /// Every run past its deadline is timed out; the others go back to their queues.
    /// </summary>
    public void KillOverdue(long now)
    {
        HashSet<long>? late = null;
        foreach (var (id, run) in pending)
            if (now >= run.Deadline) (late ??= []).Add(id);
        if (late is null) return;
        var timeout = pending.TryGetValue(late.First(), out var first) ? first.Run.Timeout : TimeSpan.Zero;
        Kill($"{late.Count} run(s) passed WORKQ_HANDLER_TIMEOUT ({timeout.TotalSeconds:0.###} s) and did not stop", late);
    }

    /// <summary>Stops the runner; its runs (there are none when it is idle) go back to their queues, but for the overdue ones.</summary>
    public void Kill(string reason, HashSet<long>? overdueRuns = null)
    {
        lock (pending)
        {
            if (killReason is not null) return;
            killReason = reason;
            if (overdueRuns is not null) overdue = overdueRuns;
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }
    }

    private async Task<RunnerExit> ReadAsync()
    {
        try
        {
            while (await input.ReadAsync(CancellationToken.None) is { } frame)
            {
                switch (frame.Type)
                {
                    case RunnerProtocol.Ready:
                        ready.TrySetResult();
                        break;
                    case RunnerProtocol.Done:
                        OnDone(frame.Payload.Span);
                        break;
                    case RunnerProtocol.Emit:
                        OnEmit(frame.Payload.Span);
                        break;
                    default:
                        throw new InvalidDataException($"frame type {frame.Type} is not one a runner sends");
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            // A runner that writes what is not a frame is treated as one that crashed.
            logger.LogWarning("Runner {Pid} of canvas {Canvas} broke the channel: {Reason}", Pid, Canvas, e.Message);
        }
        return await SettleAsync();
    }

    private void OnDone(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload);
        var id = reader.Long();
        var outcome = (RunnerOutcome)reader.Byte();
        var duration = TimeSpan.FromTicks(reader.Long());
        var result = TraceResult.From(reader.Bytes());
        var errorType = reader.String();
        var errorMessage = reader.String();
        var count = Math.Min(reader.Int(), Shared.Scripting.HandlerGlobals.MaxLogLines);
        var logs = count == 0 ? [] : new string[count];
        for (var i = 0; i < count; i++) logs[i] = reader.String() ?? "";
        if (!pending.TryRemove(id, out var run)) return;
        run.Outcome.TrySetResult(outcome switch
        {
            RunnerOutcome.Completed => new HandlerOutcome(RunOutcome.Completed, duration, result, Logs: logs),
            RunnerOutcome.TimedOut => HandlerOutcome.TimedOut(run.Run.Timeout, duration, logs),
            _ => new HandlerOutcome(RunOutcome.Failed, duration, ErrorType: errorType, ErrorMessage: errorMessage, Logs: logs),
        });
    }

    private void OnEmit(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload);
        var id = reader.Long();
        var number = reader.Int();
        var worker = reader.String() ?? "";
        var json = reader.Bytes().ToArray();
        var when = Shared.Messaging.EmitWhen.Now;
        string? badTime = null;
        try
        {
            when = reader.When();
        }
        catch (ArgumentOutOfRangeException)
        {
            badTime = "Emit refused: \"runAt\" is not a representable time.";
        }
        _ = EmitAsync(id, number, worker, json, when, badTime);
    }

    private async Task EmitAsync(long id, int number, string worker, byte[] json, Shared.Messaging.EmitWhen when, string? badTime)
    {
        Guid emitted = default;
        string? refusal = null;
        var kind = RunnerProtocol.EmitRefused;
        // The run id is the runner's only handle: an emit is published for that run's event, in that run's canvas, or not at all.
        if (!pending.TryGetValue(id, out var run)) refusal = "Emit refused: the run has finished; await every Emit before the handler returns.";
        else if (badTime is not null) (refusal, kind) = (badTime, RunnerProtocol.EmitInvalidArgument);
        else
        {
            try
            {
                emitted = await run.Run.Emitter.EmitAsync(worker, json, when, run.Stopping);
            }
            catch (ArgumentException e)
            {
                (refusal, kind) = (e.Message, RunnerProtocol.EmitInvalidArgument);
            }
            catch (Shared.Messaging.QueueFullException e)
            {
                (refusal, kind) = (e.Message, RunnerProtocol.EmitQueueFull);
            }
            catch (Exception e)
            {
                refusal = e is InvalidOperationException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            }
        }
        try
        {
            using var reply = output.Begin(RunnerProtocol.EmitReply);
            reply.Long(id);
            reply.Int(number);
            reply.Bool(refusal is null);
            reply.Guid(emitted);
            reply.Byte(kind);
            reply.String(refusal);
        }
        catch (IOException)
        {
            // The runner is gone.
        }
    }

    private void OnStderr(string? line)
    {
        if (string.IsNullOrEmpty(line)) return;
        lock (stderr)
        {
            stackOverflow |= line.Contains("Stack overflow", StringComparison.Ordinal);
            outOfMemory |= line.Contains("OutOfMemory", StringComparison.Ordinal) || line.Contains("Out of memory", StringComparison.OrdinalIgnoreCase);
            // A stack overflow prints thousands of frames: the first lines and the cause are what matter.
            if (stderr.Count < StderrLinesKept) stderr.Enqueue(line.Length > 500 ? line[..500] : line);
        }
    }

    private async Task<RunnerExit> SettleAsync()
    {
        lock (pending) Volatile.Write(ref closed, true);
        Kill(ChannelClosed);
        await process.WaitForExitAsync();
        await output.DisposeAsync();
        cpu?.Dispose();
        ready.TrySetException(new IOException("the runner exited before it was ready"));
        var exit = Describe();
        foreach (var id in pending.Keys)
        {
            if (!pending.TryRemove(id, out var run)) continue;
            run.Outcome.TrySetResult(exit.Crash is { } crash
                ? new HandlerOutcome(RunOutcome.Crashed, TimeSpan.Zero, ErrorType: "RunnerCrashed", ErrorMessage: $"runner crashed: {crash}")
                : overdue.Contains(id)
                    ? HandlerOutcome.TimedOut(run.Run.Timeout, run.Run.Timeout, after: "stopped by killing its canvas's runner process (it ignored its CancellationToken)")
                    : new HandlerOutcome(RunOutcome.Requeue, TimeSpan.Zero, ErrorMessage: $"the canvas's runner was stopped: {exit.Reason}"));
        }
        process.Dispose();
        return exit;
    }

    /// <summary>Why the process ended: a crash names its cause; a kill of ours (a time-out, idle, shutdown) is no crash.</summary>
    private RunnerExit Describe()
    {
        var code = process.ExitCode;
        string[] lines;
        lock (stderr) lines = [.. stderr];
        if (killReason != ChannelClosed) return new RunnerExit(killReason!, null, code, sinceStart.Elapsed);
        string crash;
        if (stackOverflow) crash = "stack overflow";
        else if (outOfMemory) crash = $"out of memory (the runner's limit is {options.MemoryMegabytes} MB, WORKQ_RUNNER_MEMORY_MB)";
        else if (lines.FirstOrDefault(l => l.StartsWith("Unhandled exception.", StringComparison.Ordinal)) is { } unhandled)
            crash = $"unhandled exception in background code: {unhandled["Unhandled exception.".Length..].Trim()}";
        else if (cpu?.OutOfMemoryKilled == true) crash = $"out of memory: its memory cgroup's limit is {options.MemoryMegabytes} MB, WORKQ_RUNNER_MEMORY_MB";
        else if (code == 137) crash = "killed by the system (SIGKILL), most likely for memory";
        else crash = $"exited with code {code}{(lines.Length > 0 ? $": {lines[^1]}" : "")}";
        return new RunnerExit(crash, crash, code, sinceStart.Elapsed);
    }

    private sealed record Pending(HandlerRun Run, long Deadline, CancellationToken Stopping)
    {
        public TaskCompletionSource<HandlerOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>How a runner ended: <see cref="Crash"/> is set when it died of its own accord, naming the cause.</summary>
public sealed record RunnerExit(string Reason, string? Crash, int ExitCode, TimeSpan Lifetime);
