using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.ControlPlane;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Telemetry;
using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

/// <summary>
/// <c>WORKQ_ISOLATION=canvas</c>: one runner process per canvas, started on the canvas's first event, kept warm while
/// it has traffic and stopped after <c>WORKQ_RUNNER_IDLE_SECONDS</c>. A runner that dies takes only its canvas's runs
/// with it: they go back to their queues, and an event that has crashed its runner twice is dead-lettered at once.
/// </summary>
public sealed class RunnerPool(
    RunnerOptions options,
    IRunnerLauncher launcher,
    TimeProvider time,
    ILogger<RunnerPool> logger) :
    BackgroundService,
    IHandlerHost
{
    private const string QuarantineSuffix = "\0quarantine";

    private static readonly TimeSpan SweepEvery = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, RunnerSlot> slots = new(StringComparer.Ordinal);
    private readonly EarlyCancels early = new(time);

    public async Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping)
    {
        // A suspect runs alone, in a runner of its own beside the canvas's: if that one crashes too, the event is the
        // cause.
        var slot = slots.GetOrAdd(
            run.Suspect ? version.Canvas + QuarantineSuffix : version.Canvas,
            key => new RunnerSlot(version.Canvas, key.EndsWith(QuarantineSuffix, StringComparison.Ordinal)));
        if (slot.Quarantine is { } alone)
        {
            try
            {
                await alone.WaitAsync(stopping);
            }
            catch (OperationCanceledException)
            {
                return HandlerOutcome.ShuttingDown;
            }
        }
        try
        {
            IRunner runner;
            try
            {
                runner = await slot.GetAsync(this, stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Not the event's fault: it goes back, after a pause so that a runner that cannot start does not spin
                // the queue.
                logger.LogError(e, "No runner for canvas {Canvas}: {Reason}", version.Canvas, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stopping);
                return new HandlerOutcome(
                    RunOutcome.Requeue,
                    TimeSpan.Zero,
                    ErrorMessage: $"no runner could be started: {e.Message}");
            }
            catch (OperationCanceledException)
            {
                return HandlerOutcome.ShuttingDown;
            }
            var running = runner.RunAsync(version, run, stopping);
            // The runner holds the run now: a cancel that came while it waited for the runner (or a quarantine slot)
            // found nothing to cancel, and is applied here.
            if (early.By(version.Canvas, run.Envelope.Id) is { } by)
                runner.Cancel(run.Envelope.Id, by, CancelDeadline());
            var outcome = await running;
            // In the canvas's runner any of the runs in flight may have caused the crash: each goes back as a suspect.
            return outcome.Outcome == RunOutcome.Crashed && !run.Suspect
                ? outcome with { Outcome = RunOutcome.Suspect }
                : outcome;
        }
        finally
        {
            slot.Quarantine?.Release();
            early.Forget(version.Canvas, run.Envelope.Id);
        }
    }

    public void Retire(HandlerVersion version)
    {
        if (slots.TryGetValue(version.Canvas, out var slot)) slot.Current?.Unload(version.Key);
        if (slots.TryGetValue(version.Canvas + QuarantineSuffix, out var quarantine)) quarantine.Current?
            .Unload(version.Key);
    }

    public bool Cancel(string canvas, Guid eventId, string by)
    {
        early.Add(canvas, eventId, by);
        var deadline = CancelDeadline();
        var found = false;
        foreach (var key in (ReadOnlySpan<string>)[canvas, canvas + QuarantineSuffix])
            if (slots.TryGetValue(key, out var slot) && slot.Current is { } runner)
                found |= runner.Cancel(eventId, by, deadline);
        return found;
    }

    private long CancelDeadline() => Environment.TickCount64 + (long)options.CancelGrace.TotalMilliseconds;

    /// <summary>Every canvas's runner as the instances view and worker stats show it.</summary>
    public List<RunnerDescription> Describe() =>
        slots.Values.Select(s => s.Describe()).OrderBy(r => r.Canvas, StringComparer.Ordinal).ToList();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    Sweep();
                }
                catch (Exception e)
                {
                    // The watchdog must outlive any one runner's trouble.
                    logger.LogError(e, "Sweeping the runners failed; sweeping again on the next tick");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Sweep()
    {
        options.Cgroups?.RemoveEnded();
        // The runners' clock (IRunner): their deadlines and last activity are in it.
        var now = Environment.TickCount64;
        foreach (var slot in slots.Values)
        {
            if (slot.Current is not { } runner) continue;
            runner.KillOverdue(now);
            if (runner.Running == 0 && runner.IsReady && now - runner.LastActive > options.Idle.TotalMilliseconds)
            {
                logger.LogInformation(
                    "Runner {Pid} of canvas {Canvas} stopped after {Idle} s idle",
                    runner.Pid,
                    runner.Canvas,
                    options.Idle.TotalSeconds);
                runner.Kill("idle");
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var ends = new List<Task>();
        foreach (var slot in slots.Values)
        {
            if (slot.Current is not { } runner) continue;
            runner.Kill("the worker service stopped");
            ends.Add(runner.Ended);
        }
        await Task.WhenAll(ends).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        options.Cgroups?.Dispose();
        options.Sandbox?.Dispose();
    }

    private async Task<IRunner> StartAsync(string canvas, bool quarantine)
    {
        var runner = await launcher.StartAsync(canvas);
        if (quarantine) logger.LogInformation(
            "Runner {Pid} of canvas {Canvas} runs the events its last crash left suspect, one at a time",
            runner.Pid,
            canvas);
        WorkqDiagnostics.RunnerStarts.Add(1, new TagList { { "workq.canvas", canvas } });
        logger.LogInformation("Runner {Pid} of canvas {Canvas} started", runner.Pid, canvas);
        return runner;
    }

    private void OnEnded(IRunner runner, RunnerExit exit)
    {
        var tags = new TagList { { "workq.canvas", runner.Canvas } };
        if (exit.Crash is { } crash)
        {
            WorkqDiagnostics.RunnerCrashes.Add(1, tags);
            logger.LogWarning(
                "Runner {Pid} of canvas {Canvas} crashed after {Lifetime:0.0} s: {Cause}",
                runner.Pid,
                runner.Canvas,
                exit.Lifetime.TotalSeconds,
                crash);
        }
        else if (exit.Reason != "idle" && exit.Reason != "the worker service stopped")
        {
            WorkqDiagnostics.RunnerKills.Add(1, tags);
            logger.LogWarning(
                "Runner {Pid} of canvas {Canvas} killed: {Reason}",
                runner.Pid,
                runner.Canvas,
                exit.Reason);
        }
    }

    /// <summary>A canvas's current runner, and its history across restarts.</summary>
    private sealed class RunnerSlot(string canvas, bool quarantine)
    {
        /// <summary>Set for a canvas's quarantine runner: one suspect at a time.</summary>
        public SemaphoreSlim? Quarantine { get; } = quarantine ? new SemaphoreSlim(1, 1) : null;

        private readonly SemaphoreSlim starting = new(1, 1);
        private int restarts;
        private bool faulted;
        private int crashCount;
        private string? lastCrash;
        private DateTimeOffset? lastCrashAt;
        private double? coldStartMs;

        public IRunner? Current { get; private set; }

        public async Task<IRunner> GetAsync(RunnerPool pool, CancellationToken cancellationToken)
        {
            if (Current is { IsReady: true } warm) return warm;
            await starting.WaitAsync(cancellationToken);
            try
            {
                if (Current is { Closed: false } current)
                {
                    await current.WaitReadyAsync(cancellationToken);
                    return current;
                }
                var clock = Stopwatch.StartNew();
                var runner = await pool.StartAsync(canvas, Quarantine is not null);
                Current = runner;
                if (faulted) restarts++;
                faulted = false;
                _ = WatchAsync(pool, runner);
                try
                {
                    await runner.WaitReadyAsync(cancellationToken);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    runner.Kill("it did not start in time");
                    throw;
                }
                coldStartMs = clock.Elapsed.TotalMilliseconds;
                WorkqDiagnostics.RunnerColdStart
                    .Record(clock.Elapsed.TotalMilliseconds, new TagList { { "workq.canvas", canvas } });
                return runner;
            }
            finally
            {
                starting.Release();
            }
        }

        private async Task WatchAsync(RunnerPool pool, IRunner runner)
        {
            var exit = await runner.Ended;
            try
            {
                pool.OnEnded(runner, exit);
            }
            finally
            {
                Ended(runner, exit);
            }
        }

        private void Ended(IRunner runner, RunnerExit exit)
        {
            lock (this)
            {
                faulted |= exit.Reason != "idle";
                if (exit.Crash is { } crash)
                {
                    crashCount++;
                    lastCrash = crash;
                    lastCrashAt = DateTimeOffset.UtcNow;
                }
            }
            if (Current == runner) Current = null;
        }

        public RunnerDescription Describe()
        {
            var current = Current;
            var state = current is null ? "stopped" : current.IsReady ? "warm" : "starting";
            lock (this)
                return new RunnerDescription(
                    canvas,
                    state,
                    current?.Pid,
                    current?.Running ?? 0,
                    restarts,
                    crashCount,
                    lastCrash,
                    lastCrashAt,
                    coldStartMs,
                    Quarantine is not null);
        }
    }
}
