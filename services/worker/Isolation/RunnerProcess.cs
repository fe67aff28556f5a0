using System.Diagnostics;
using Workq.Shared.Handlers.Isolation;
using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

/// <summary>
/// One runner process and the runs it holds. It is never asked to stop a run: past a run's time-out the supervisor
/// kills the process, and its end settles every run it held (<see cref="Ended"/>). Nothing the runner sends is trusted:
/// a frame that is malformed, too large, of a type a runner does not send, or about a run it was never given ends the
/// runner, and its end says "runner broke the protocol: ..." (<see cref="RunnerExits"/>).
/// </summary>
public sealed class RunnerProcess : IRunner
{
    private readonly Process process;
    private readonly FrameOutput output;
    private readonly FrameInput input;
    private readonly RunnerOptions options;
    private readonly ILogger logger;
    private readonly RunnerHttpRelay http;
    private readonly RunnerEmitRelay emits;
    private readonly RunnerRuns runs = new();
    private readonly RunnerStderr stderr = new();
    private readonly Lock killing = new();
    private readonly HashSet<int> loaded = [];
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch sinceStart = Stopwatch.StartNew();
    private readonly RunnerCgroup? cpu;
    private string? killReason;
    private string? protocolBreak;
    private HashSet<long> overdue = [];

    private RunnerProcess(
        string canvas,
        Process process,
        RunnerOptions options,
        RunnerCgroup? cpu,
        HttpMessageInvoker pool,
        ILogger logger)
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
        emits = new RunnerEmitRelay(output);
        new InitFrame(
            canvas,
            options.Threads,
            options.Http.Concurrency,
            options.Http.MaxBytes,
            options.MaxEventBytes,
            options.MaxTraceBytes,
            options.MaxStepBytes).Write(output);
        Ended = ReadAsync();
    }

    public string Canvas { get; }
    public int Pid { get; }
    public bool IsReady => ready.Task.IsCompletedSuccessfully && !Closed;
    /// <summary>The process is gone or going: it takes no new runs, and its end settles the ones it holds.</summary>
    public bool Closed => runs.Closed;
    public int Running => runs.Count;
    /// <summary>
    /// When the last run was handed over or finished, in <see cref="Environment.TickCount64"/> milliseconds.
    /// </summary>
    public long LastActive { get; private set; } = Environment.TickCount64;
    /// <summary>
    /// Completes once the process is gone and every run it held is settled, with why it ended (null: stopped when
    /// idle).
    /// </summary>
    public Task<RunnerExit> Ended { get; }

    /// <summary>
    /// Starts the canvas's runner in its cgroup and, unless <c>WORKQ_SANDBOX=off</c>, its sandbox (<see
    /// cref="RunnerLaunch"/>).
    /// </summary>
    public static async Task<RunnerProcess> StartAsync(
        string canvas,
        RunnerOptions options,
        HttpMessageInvoker pool,
        ILogger logger)
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
        process.ErrorDataReceived += (_, e) => runner.stderr.Add(e.Data);
        process.BeginErrorReadLine();
        return runner;
    }

    /// <summary>Completes when the runner takes runs; faults if it died first or did not start in time.</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken)
        => ready.Task.WaitAsync(options.StartupTimeout, cancellationToken);

    public async Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping)
    {
        var deadline = Environment.TickCount64 + (long)(run.Timeout + options.TimeoutGrace).TotalMilliseconds;
        if (runs.Add(run, deadline, stopping) is not { } waiting)
            return new HandlerOutcome(
                RunOutcome.Requeue,
                TimeSpan.Zero,
                ErrorMessage: "the canvas's runner was stopping");
        var id = waiting.Id;
        LastActive = Environment.TickCount64;
        try
        {
            lock (loaded)
            {
                if (loaded.Add(version.Key)) new LoadFrame(version.Key, version.Assembly).Write(output);
            }
            var envelope = run.Envelope;
            new RunFrame(
                id,
                version.Key,
                envelope.Id,
                envelope.Worker,
                envelope.EnqueuedAt,
                run.Attempt,
                envelope.Depth,
                run.Timeout,
                run.Body,
                envelope.BatchId,
                run.Callback,
                envelope.Resume).Write(output);
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
            runs.TryTake(id, out _);
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
    /// Kills the runner once runs passed their time-out and grace: the handler ignored its token and nothing else stops
    /// it. Every run past its deadline is timed out; the others go back to their queues.
    /// </summary>
    public void KillOverdue(long now)
    {
        if (runs.Overdue(now) is not { } late) return;
        Kill(
            late.Cancelled
                ? $"{late.Ids.Count} cancelled run(s) did not stop within WORKQ_CANCEL_GRACE_SECONDS"
                : $"{late.Ids.Count} run(s) passed WORKQ_HANDLER_TIMEOUT_SECONDS " +
                $"({late.Timeout.TotalSeconds:0.###} s) and did not stop",
            late.Ids);
    }

    public bool Cancel(Guid eventId, string by, long deadline)
    {
        if (runs.OfEvent(eventId) is not { } held) return false;
        if (!held.TryCancel(by, deadline)) return true;
        try
        {
            new CancelFrame(held.Id).Write(output);
        }
        catch (IOException)
        {
            // The runner is going: its end settles the run, cancelled.
        }
        return true;
    }

    void IRunner.Kill(string reason) => Kill(reason);

    /// <summary>
    /// Stops the runner; its runs (there are none when it is idle) go back to their queues, but for the overdue ones.
    /// </summary>
    public void Kill(string reason, HashSet<long>? overdueRuns = null)
    {
        lock (killing)
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
            // Garbage, a forged or oversized frame: the runner is no longer one we can talk to. (A pipe that just
            // closes is a crash.)
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
            case EmitBatchFrame.Type:
                var batch = EmitBatchFrame.Read(payload);
                _ = emits.RelayAsync(batch, runs.Named(batch.RunId, "EmitBatch"));
                break;
            case BatchResultsFrame.Type:
                var results = BatchResultsFrame.Read(payload);
                _ = emits.RelayAsync(results, runs.Named(results.RunId, "BatchResults"));
                break;
            case StepFrame.Type:
                var step = StepFrame.Read(payload);
                _ = emits.RelayAsync(step, runs.Named(step.RunId, "Step"));
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

    private void OnDone(DoneFrame done)
    {
        if (runs.Named(done.RunId, "Done") is null || !runs.TryTake(done.RunId, out var run)) return;
        http.EndRun(done.RunId);
        var result = TraceResult.From(done.Result is { } json ? json.Span : "null"u8);
        var steps = done.Steps;
        // However the handler ended, a run whose event was cancelled ends cancelled.
        run.Outcome.TrySetResult(run.CancelledBy is { } by
            ? HandlerOutcome.Cancelled(by, done.Duration, done.Logs, steps)
            : done.Outcome switch
            {
                RunnerOutcome.Completed => new HandlerOutcome(RunOutcome.Completed, done.Duration, result,
                    Logs: done.Logs, Steps: steps),
                RunnerOutcome.TimedOut => HandlerOutcome.TimedOut(run.Run.Timeout, done.Duration, done.Logs) with
                {
                    Steps = steps,
                },
                RunnerOutcome.Suspended when done.Suspension is { } suspension
                    && suspension.Problem(DateTimeOffset.UtcNow) is null => new HandlerOutcome(
                    RunOutcome.Suspended, done.Duration, Logs: done.Logs, Suspension: suspension, Steps: steps),
                _ => new HandlerOutcome(
                    RunOutcome.Failed,
                    done.Duration,
                    ErrorType: done.ErrorType ?? (done.Outcome == RunnerOutcome.Failed ? null : "InvalidDataException"),
                    ErrorMessage: done.ErrorMessage
                        ?? (done.Outcome == RunnerOutcome.Failed ? null : $"the runner said {done.Outcome} unasked"),
                    Logs: done.Logs,
                    Steps: steps),
            });
    }

    private void OnEmit(EmitFrame emit) => _ = emits.RelayAsync(emit, runs.Named(emit.RunId, "Emit"));

    private void OnHttpRequest(HttpRequestFrame request)
    {
        if (runs.Named(request.RunId, "HttpRequest") is { } run)
        {
            http.Start(request, run.Stopping, TimeSpan.FromMilliseconds(run.Deadline - Environment.TickCount64));
            return;
        }
        try
        {
            new HttpEndFrame(
                request.RequestId,
                HttpFailure.Request,
                "Http refused: the run has finished; await every request before the handler returns.").Write(output);
        }
        catch (IOException)
        {
            // The runner is gone.
        }
    }

    private async Task<RunnerExit> SettleAsync()
    {
        runs.Close();
        Kill(RunnerExits.ChannelClosed);
        http.EndAll();
        await process.WaitForExitAsync();
        await output.DisposeAsync();
        cpu?.Dispose();
        ready.TrySetException(new IOException("the runner exited before it was ready"));
        var (lines, stackOverflow, outOfMemory) = stderr.Seen();
        var end = new RunnerEnd(killReason!, protocolBreak, stackOverflow, outOfMemory, lines, process.ExitCode,
            options.MemoryMegabytes, cpu?.OutOfMemoryKilled == true);
        var exit = RunnerExits.Describe(end, sinceStart.Elapsed);
        foreach (var run in runs.TakeAll())
            run.Outcome.TrySetResult(run.CancelledBy is { } by
                ? HandlerOutcome.Cancelled(by, TimeSpan.Zero,
                    after: overdue.Contains(run.Id)
                        ? "; its handler did not stop within WORKQ_CANCEL_GRACE_SECONDS and its canvas's runner was " +
                            "killed"
                        : "; its canvas's runner ended as it stopped")
                : RunnerExits.HeldRunOutcome(exit, overdue.Contains(run.Id), run.Run.Timeout));
        process.Dispose();
        return exit;
    }
}
