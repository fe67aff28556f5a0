using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.Isolation;
using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

/// <summary>
/// One runner process and the runs it holds. It is never asked to stop a run: past a run's time-out the supervisor kills
/// the process, and its end settles every run it held (<see cref="Ended"/>). Nothing the runner sends is trusted: a frame
/// that is malformed, too large, of a type a runner does not send, or about a run it was never given ends the runner, and
/// its end says "runner broke the protocol: ..." (<see cref="RunnerExits"/>).
/// </summary>
public sealed class RunnerProcess
{
    private const int StderrLinesKept = 12;

    private readonly Process process;
    private readonly FrameOutput output;
    private readonly FrameInput input;
    private readonly RunnerOptions options;
    private readonly ILogger logger;
    private readonly RunnerHttpRelay http;
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
    private string? protocolBreak;
    // Set under the pending lock once the process is gone: a run handed over after that would never be settled.
    private bool closed;
    private HashSet<long> overdue = [];

    private RunnerProcess(string canvas, Process process, RunnerOptions options, RunnerCgroup? cpu, HttpMessageInvoker pool, ILogger logger)
    {
        Canvas = canvas;
        Pid = process.Id;
        this.process = process;
        this.options = options;
        this.cpu = cpu;
        this.logger = logger;
        output = new FrameOutput(process.StandardInput.BaseStream);
        input = new FrameInput(process.StandardOutput.BaseStream, options.MaxFrameBytes);
        http = new RunnerHttpRelay(pool, output, options.Http, logger);
        new InitFrame(canvas, options.Threads, options.Http.Concurrency, options.Http.MaxBytes, options.MaxEventBytes, options.MaxTraceBytes).Write(output);
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
    public static async Task<RunnerProcess> StartAsync(string canvas, RunnerOptions options, HttpMessageInvoker pool, ILogger logger)
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
        var runner = new RunnerProcess(canvas, process, options, cgroup, pool, logger);
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
                if (loaded.Add(version.Key)) new LoadFrame(version.Key, version.Assembly).Write(output);
            }
            var envelope = run.Envelope;
            new RunFrame(id, version.Key, envelope.Id, envelope.Worker, envelope.EnqueuedAt, run.Attempt, envelope.Depth, run.Timeout, run.Body).Write(output);
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
                new UnloadFrame(key).Write(output);
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
            while (await input.ReadAsync(CancellationToken.None) is { } frame) Dispatch(frame.Type, frame.Payload.Span);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            // Garbage, a forged or oversized frame: the runner is no longer one we can talk to. (A pipe that just closes is a crash.)
            protocolBreak = e.Message;
            logger.LogWarning("Runner {Pid} of canvas {Canvas} broke the protocol: {Reason}", Pid, Canvas, e.Message);
        }
        catch (IOException e)
        {
            logger.LogDebug("Runner {Pid} of canvas {Canvas}: its channel failed: {Reason}", Pid, Canvas, e.Message);
        }
        return await SettleAsync();
    }

    private void Dispatch(byte type, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case ReadyFrame.Type:
                ReadyFrame.Read(payload);
                if (!ready.TrySetResult()) throw new InvalidDataException("a second Ready frame");
                break;
            case DoneFrame.Type:
                OnDone(DoneFrame.Read(payload));
                break;
            case EmitFrame.Type:
                OnEmit(EmitFrame.Read(payload));
                break;
            case HttpRequestFrame.Type:
                OnHttpRequest(HttpRequestFrame.Read(payload));
                break;
            case HttpCancelFrame.Type:
                http.Cancel(HttpCancelFrame.Read(payload));
                break;
            default:
                throw new InvalidDataException($"a frame of type {type}, which a runner does not send");
        }
    }

    /// <summary>
    /// The run it names, when it still runs; null when it has ended (or the supervisor gave up on it at shutdown). An id this
    /// runner was never given is no race: only a forged frame names one.
    /// </summary>
    private Pending? RunNamed(long id, string frame)
    {
        if (id <= 0 || id > Interlocked.Read(ref lastRunId)) throw new InvalidDataException($"a {frame} frame about run {id}, which this runner was never given");
        return pending.TryGetValue(id, out var run) ? run : null;
    }

    private void OnDone(DoneFrame done)
    {
        if (RunNamed(done.RunId, "Done") is null || !pending.TryRemove(done.RunId, out var run)) return;
        http.EndRun(done.RunId);
        var result = TraceResult.From(done.Result is { } json ? json.Span : "null"u8);
        run.Outcome.TrySetResult(done.Outcome switch
        {
            RunnerOutcome.Completed => new HandlerOutcome(RunOutcome.Completed, done.Duration, result, Logs: done.Logs),
            RunnerOutcome.TimedOut => HandlerOutcome.TimedOut(run.Run.Timeout, done.Duration, done.Logs),
            _ => new HandlerOutcome(RunOutcome.Failed, done.Duration, ErrorType: done.ErrorType, ErrorMessage: done.ErrorMessage, Logs: done.Logs),
        });
    }

    private void OnEmit(EmitFrame emit)
    {
        // The run id is the runner's only handle: an emit is published for that run's event, in that run's canvas, or not at all.
        var run = RunNamed(emit.RunId, "Emit");
        _ = EmitAsync(emit, run);
    }

    private async Task EmitAsync(EmitFrame emit, Pending? run)
    {
        EmitReplyFrame reply;
        if (run is null) reply = EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitRefused, "Emit refused: the run has finished; await every Emit before the handler returns.");
        else
        {
            try
            {
                reply = EmitReplyFrame.Emitted(emit.RunId, emit.Number, await run.Run.Emitter.EmitAsync(emit.Worker, emit.Json, emit.When, run.Stopping));
            }
            catch (ArgumentException e)
            {
                reply = EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitInvalidArgument, e.Message);
            }
            catch (Shared.Messaging.QueueFullException e)
            {
                reply = EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitQueueFull, e.Message);
            }
            catch (Exception e)
            {
                reply = EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitRefused, e is InvalidOperationException ? e.Message : $"{e.GetType().Name}: {e.Message}");
            }
        }
        try
        {
            reply.Write(output);
        }
        catch (IOException)
        {
            // The runner is gone.
        }
    }

    private void OnHttpRequest(HttpRequestFrame request)
    {
        if (RunNamed(request.RunId, "HttpRequest") is { } run)
        {
            http.Start(request, run.Stopping, TimeSpan.FromMilliseconds(run.Deadline - Environment.TickCount64));
            return;
        }
        try
        {
            new HttpEndFrame(request.RequestId, HttpFailure.Request, "Http refused: the run has finished; await every request before the handler returns.").Write(output);
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
        Kill(RunnerExits.ChannelClosed);
        http.EndAll();
        await process.WaitForExitAsync();
        await output.DisposeAsync();
        cpu?.Dispose();
        ready.TrySetException(new IOException("the runner exited before it was ready"));
        string[] lines;
        lock (stderr) lines = [.. stderr];
        var exit = RunnerExits.Describe(new RunnerEnd(killReason!, protocolBreak, stackOverflow, outOfMemory, lines, process.ExitCode, options.MemoryMegabytes, cpu?.OutOfMemoryKilled == true),
            sinceStart.Elapsed);
        foreach (var id in pending.Keys)
        {
            if (!pending.TryRemove(id, out var run)) continue;
            run.Outcome.TrySetResult(exit.RunError is { } crash
                ? new HandlerOutcome(RunOutcome.Crashed, TimeSpan.Zero, ErrorType: "RunnerCrashed", ErrorMessage: crash)
                : overdue.Contains(id)
                    ? HandlerOutcome.TimedOut(run.Run.Timeout, run.Run.Timeout, after: "stopped by killing its canvas's runner process (it ignored its CancellationToken)")
                    : new HandlerOutcome(RunOutcome.Requeue, TimeSpan.Zero, ErrorMessage: $"the canvas's runner was stopped: {exit.Reason}"));
        }
        process.Dispose();
        return exit;
    }

    private sealed record Pending(HandlerRun Run, long Deadline, CancellationToken Stopping)
    {
        public TaskCompletionSource<HandlerOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
