using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.ControlPlane;
using Workq.Shared.Telemetry;
using Workq.Worker.Consuming;

namespace Workq.Worker.Isolation;

/// <summary>
/// <c>WORKQ_ISOLATION=canvas</c>: one runner process per canvas, started on the canvas's first event, kept warm while it
/// has traffic and stopped after <c>WORKQ_RUNNER_IDLE_SECONDS</c>. A runner that dies takes only its canvas's runs with
/// it: they go back to their queues, and an event that has crashed its runner twice is dead-lettered at once.
/// </summary>
public sealed class RunnerPool(RunnerOptions options, ILogger<RunnerPool> logger) : BackgroundService, IHandlerHost
{
    /// <summary>Crashes of one event's runner after which it is dead-lettered instead of given back.</summary>
    public const int CrashesBeforeDeadLetter = 2;

    private static readonly TimeSpan SweepEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan CrashMemory = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, RunnerSlot> slots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, (int Crashes, long At)> crashes = new();

    public async Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping)
    {
        var slot = slots.GetOrAdd(version.Canvas, canvas => new RunnerSlot(canvas));
        RunnerProcess runner;
        try
        {
            runner = await slot.GetAsync(this, stopping);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            // Not the event's fault: it goes back, after a pause so that a runner that cannot start does not spin the queue.
            logger.LogError(e, "No runner for canvas {Canvas}: {Reason}", version.Canvas, e.Message);
            await Task.Delay(TimeSpan.FromSeconds(1), stopping);
            return new HandlerOutcome(RunOutcome.Requeue, TimeSpan.Zero, ErrorMessage: $"no runner could be started: {e.Message}");
        }
        catch (OperationCanceledException)
        {
            return HandlerOutcome.ShuttingDown;
        }
        var outcome = await runner.RunAsync(version, run, stopping);
        if (outcome.Outcome != RunOutcome.Crashed) return outcome;
        // Only its canvas's runs were in the runner. Blame is counted per event, so the one that crashes it every time ends here.
        var count = crashes.AddOrUpdate(run.Envelope.Id, (1, Environment.TickCount64), (_, c) => (c.Crashes + 1, Environment.TickCount64)).Crashes;
        if (count >= CrashesBeforeDeadLetter)
        {
            crashes.TryRemove(run.Envelope.Id, out _);
            return outcome;
        }
        return outcome with { Outcome = RunOutcome.Requeue };
    }

    public void Retire(HandlerVersion version)
    {
        if (slots.TryGetValue(version.Canvas, out var slot)) slot.Current?.Unload(version.Key);
    }

    /// <summary>Every canvas's runner as the instances view and worker stats show it.</summary>
    public List<RunnerDescription> Describe() =>
        slots.Values.Select(s => s.Describe()).OrderBy(r => r.Canvas, StringComparer.Ordinal).ToList();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = Environment.TickCount64;
                foreach (var slot in slots.Values)
                {
                    if (slot.Current is not { } runner) continue;
                    runner.KillOverdue(now);
                    if (runner.Running == 0 && runner.IsReady && now - runner.LastActive > options.Idle.TotalMilliseconds)
                    {
                        logger.LogInformation("Runner {Pid} of canvas {Canvas} stopped after {Idle} s idle", runner.Pid, runner.Canvas, options.Idle.TotalSeconds);
                        runner.Kill("idle");
                    }
                }
                foreach (var (id, crash) in crashes)
                    if (now - crash.At > CrashMemory.TotalMilliseconds) crashes.TryRemove(id, out _);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
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
        await Task.WhenAll(ends).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        options.Cgroups?.Dispose();
    }

    private RunnerProcess Start(string canvas)
    {
        var runner = RunnerProcess.Start(canvas, options, logger);
        WorkqDiagnostics.RunnerStarts.Add(1, new TagList { { "workq.canvas", canvas } });
        logger.LogInformation("Runner {Pid} of canvas {Canvas} started", runner.Pid, canvas);
        return runner;
    }

    private void OnEnded(RunnerSlot slot, RunnerProcess runner, RunnerExit exit)
    {
        var tags = new TagList { { "workq.canvas", runner.Canvas } };
        if (exit.Crash is { } crash)
        {
            WorkqDiagnostics.RunnerCrashes.Add(1, tags);
            logger.LogWarning("Runner {Pid} of canvas {Canvas} crashed after {Lifetime:0.0} s: {Cause}", runner.Pid, runner.Canvas, exit.Lifetime.TotalSeconds, crash);
        }
        else if (exit.Reason != "idle" && exit.Reason != "the worker service stopped")
        {
            WorkqDiagnostics.RunnerKills.Add(1, tags);
            logger.LogWarning("Runner {Pid} of canvas {Canvas} killed: {Reason}", runner.Pid, runner.Canvas, exit.Reason);
        }
        slot.Ended(runner, exit);
    }

    /// <summary>A canvas's current runner, and its history across restarts.</summary>
    private sealed class RunnerSlot(string canvas)
    {
        private readonly SemaphoreSlim starting = new(1, 1);
        private int restarts;
        private bool faulted;
        private int crashCount;
        private string? lastCrash;
        private DateTimeOffset? lastCrashAt;
        private double? coldStartMs;

        public RunnerProcess? Current { get; private set; }

        public async Task<RunnerProcess> GetAsync(RunnerPool pool, CancellationToken cancellationToken)
        {
            if (Current is { IsReady: true } warm) return warm;
            await starting.WaitAsync(cancellationToken);
            try
            {
                if (Current is { Ended.IsCompleted: false } current)
                {
                    await current.WaitReadyAsync(cancellationToken);
                    return current;
                }
                var clock = Stopwatch.StartNew();
                var runner = pool.Start(canvas);
                Current = runner;
                if (faulted) restarts++;
                faulted = false;
                _ = runner.Ended.ContinueWith(t => pool.OnEnded(this, runner, t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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
                WorkqDiagnostics.RunnerColdStart.Record(clock.Elapsed.TotalMilliseconds, new TagList { { "workq.canvas", canvas } });
                return runner;
            }
            finally
            {
                starting.Release();
            }
        }

        public void Ended(RunnerProcess runner, RunnerExit exit)
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
                return new RunnerDescription(canvas, state, current?.Pid, current?.Running ?? 0, restarts, crashCount, lastCrash, lastCrashAt, coldStartMs);
        }
    }
}
