using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Workq.Shared.Messaging;
using Workq.Worker.Isolation;
using Workq.Worker.Runs;

namespace Workq.UnitTests.Worker;

/// <summary>
/// The runner pool's decisions against scripted runners and a fake clock: a runner per canvas and only for it, idle
/// runners stopped, crashed ones replaced, crash suspects run alone, and every runner stopped with the service.
/// </summary>
public sealed class RunnerPoolTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = Eventually.Deadline;
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider time = new();
    private readonly ScriptedLauncher launcher = new();
    private readonly RunnerPool pool;

    public RunnerPoolTests() => pool = new RunnerPool(
        new RunnerOptions("dotnet", "Workq.Runner.dll", Nice: null, MemoryMegabytes: 256, Threads: 4, Idle),
        launcher,
        time,
        NullLogger<RunnerPool>.Instance);

    public Task InitializeAsync() => pool.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await pool.StopAsync(CancellationToken.None);
        pool.Dispose();
    }

    [Fact]
    public async Task Each_canvas_gets_one_runner_that_runs_only_its_events()
    {
        var shop = new HandlerVersion("shop", "orders", 1, []);
        var mall = new HandlerVersion("mall", "orders", 1, []);

        await Run(shop);
        await Run(shop);
        await Run(mall);
        await Run(shop);

        Assert.Equal(["shop", "mall"], launcher.Started.Select(r => r.Canvas));
        Assert.All(launcher.Started, r => Assert.All(r.Ran, run => Assert.Equal(r.Canvas, run.Envelope.Canvas)));
        Assert.Equal([3, 1], launcher.Started.Select(r => r.Ran.Count));
    }

    [Fact]
    public async Task Runs_that_come_while_the_runner_starts_wait_for_that_one_runner()
    {
        launcher.StartReady = false;
        var shop = new HandlerVersion("shop", "orders", 1, []);

        var runs = Enumerable.Range(0, 3).Select(_ => Run(shop)).ToList();
        await Eventually.Until(() => launcher.Started.Count == 1, "the runner's start");
        Assert.All(runs, r => Assert.False(r.IsCompleted));
        launcher.Started[0].BecomeReady();

        await Task.WhenAll(runs).WaitAsync(Deadline);
        Assert.Single(launcher.Started);
        Assert.Equal(3, launcher.Started[0].Ran.Count);
    }

    [Fact]
    public async Task A_cancel_that_comes_while_the_runner_starts_cancels_the_run_once_the_runner_holds_it()
    {
        launcher.StartReady = false;
        var shop = new HandlerVersion("shop", "orders", 1, []);
        var id = Guid.NewGuid();

        var run = Run(shop, id: id);
        await Eventually.Until(() => launcher.Started.Count == 1, "the runner's start");
        Assert.False(pool.Cancel("shop", id, "ops"), "no runner holds the run yet");
        Assert.False(pool.Cancel("mall", Guid.NewGuid(), "ops"));
        launcher.Started[0].BecomeReady();
        await run.WaitAsync(Deadline);

        Assert.Equal([(id, "ops")], launcher.Started[0].Cancels);
        // Its run ended: the next run of another event is not cancelled by it.
        await Run(shop);
        Assert.Single(launcher.Started[0].Cancels);
    }

    [Fact]
    public async Task A_runner_idle_past_the_idle_time_is_stopped_and_a_busy_or_recent_one_is_not()
    {
        await Run(new HandlerVersion("idle", "w", 1, []));
        await Run(new HandlerVersion("recent", "w", 1, []));
        await Run(new HandlerVersion("busy", "w", 1, []));
        var (idle, recent, busy) = (launcher.Started[0], launcher.Started[1], launcher.Started[2]);
        idle.LastActive = Environment.TickCount64 - (long)Idle.TotalMilliseconds - 1_000;
        busy.LastActive = idle.LastActive;
        busy.Running = 1;

        await Sweep(busy);

        Assert.Equal(["idle"], idle.Kills);
        Assert.Empty(recent.Kills);
        Assert.Empty(busy.Kills);
        await Eventually.Until(() => pool.Describe().Single(d => d.Canvas == "idle").State == "stopped",
            "the idle runner's end");
        Assert.Equal("warm", pool.Describe().Single(d => d.Canvas == "recent").State);
    }

    [Fact]
    public async Task A_runner_stopped_when_idle_starts_again_on_the_next_run_without_counting_a_restart()
    {
        var shop = new HandlerVersion("shop", "orders", 1, []);
        await Run(shop);
        launcher.Started[0].Kill("idle");
        await Eventually.Until(() => pool.Describe().Single().State == "stopped", "the idle runner's end");

        await Run(shop);

        Assert.Equal(2, launcher.Started.Count);
        Assert.Equal(("warm", 0, 0), pool.Describe().Select(d => (d.State, d.Restarts, d.Crashes)).Single());
    }

    [Fact]
    public async Task Every_sweep_lets_each_runner_kill_its_overdue_runs()
    {
        await Run(new HandlerVersion("shop", "orders", 1, []));
        var runner = launcher.Started[0];

        await Sweep(runner);
        await Sweep(runner);

        Assert.True(runner.OverdueChecks >= 2);
    }

    [Fact]
    public async Task A_crashed_runner_is_replaced_on_the_next_run_and_its_crash_is_described()
    {
        var shop = new HandlerVersion("shop", "orders", 1, []);
        await Run(shop);
        var crashed = launcher.Started[0];

        crashed.Crash("exit code 139 (SIGSEGV)");
        await Eventually.Until(() => pool.Describe().Single().State == "stopped", "the crashed runner's end");
        await Run(shop);

        Assert.Equal(2, launcher.Started.Count);
        Assert.Single(launcher.Started[1].Ran);
        var described = Assert.Single(pool.Describe());
        Assert.Equal(("shop", "warm", launcher.Started[1].Pid), (described.Canvas, described.State, described.Pid));
        Assert.Equal((1, 1, "exit code 139 (SIGSEGV)"), (described.Restarts, described.Crashes, described.LastCrash));
        Assert.NotNull(described.LastCrashAt);
    }

    [Fact]
    public async Task A_run_in_a_crashed_canvas_runner_comes_back_suspect_and_then_runs_alone()
    {
        var shop = new HandlerVersion("shop", "orders", 1, []);
        launcher.Outcome = RunOutcome.Crashed;

        var shared = await Run(shop);
        var alone = await Run(shop, suspect: true);

        Assert.Equal(RunOutcome.Suspect, shared.Outcome);
        Assert.Equal(RunOutcome.Crashed, alone.Outcome);
        Assert.Equal(2, launcher.Started.Count);
        Assert.Equal([false, true], pool.Describe().OrderBy(d => d.Quarantine).Select(d => d.Quarantine));
        Assert.False(launcher.Started[0].Ran.Single().Suspect);
        Assert.True(launcher.Started[1].Ran.Single().Suspect);
    }

    [Fact]
    public async Task Crash_suspects_run_one_at_a_time()
    {
        var shop = new HandlerVersion("shop", "orders", 1, []);
        launcher.Hold = true;

        var first = Run(shop, suspect: true);
        var second = Run(shop, suspect: true);
        await Eventually.Until(
            () => launcher.Started.Count == 1 && launcher.Started[0].Ran.Count == 1,
            "the first suspect's run");
        var quarantine = launcher.Started[0];
        Assert.False(second.IsCompleted);

        quarantine.Finish();
        await first.WaitAsync(Deadline);
        await Eventually.Until(() => quarantine.Ran.Count == 2, "the second suspect's run");
        quarantine.Finish();
        await second.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_runner_that_cannot_start_sends_the_event_back_after_a_pause()
    {
        launcher.Failure = new InvalidOperationException("no such file");

        var run = Run(new HandlerVersion("shop", "orders", 1, []));
        time.Advance(TimeSpan.FromMilliseconds(990));
        Assert.False(run.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(10));
        var outcome = await run.WaitAsync(Deadline);

        Assert.Equal(RunOutcome.Requeue, outcome.Outcome);
        Assert.Equal("no runner could be started: no such file", outcome.ErrorMessage);
    }

    [Fact]
    public async Task A_retired_version_is_unloaded_from_its_canvas_runners_only()
    {
        var shop = new HandlerVersion("shop", "orders", 1, []);
        await Run(shop);
        await Run(shop, suspect: true);
        await Run(new HandlerVersion("mall", "orders", 1, []));

        pool.Retire(shop);

        Assert.Equal([[shop.Key], [shop.Key], []], launcher.Started.Select(r => r.Unloaded.ToArray()));
    }

    [Fact]
    public async Task Stopping_the_service_stops_every_runner()
    {
        await Run(new HandlerVersion("shop", "orders", 1, []));
        await Run(new HandlerVersion("mall", "orders", 1, []));

        await pool.StopAsync(CancellationToken.None);

        Assert.All(launcher.Started, r => Assert.Equal(["the worker service stopped"], r.Kills));
        await Eventually.Until(() => pool.Describe().All(d => d.State == "stopped"), "every runner's end");
    }

    private Task<HandlerOutcome> Run(HandlerVersion version, bool suspect = false, Guid? id = null)
    {
        var envelope = new EventEnvelope(id ?? Guid.NewGuid(), version.Canvas, version.Worker, DateTimeOffset.UnixEpoch,
            0, TraceParent: null);
        return pool.RunAsync(version, new HandlerRun(envelope, 1, [], null!, TimeSpan.FromSeconds(5), suspect),
            CancellationToken.None);
    }

    /// <summary>
    /// Advances the clock a sweep's period at a time until the pool swept the runner (its sweeping loop starts on a
    /// thread of its own, and may not wait for the timer yet).
    /// </summary>
    private async Task Sweep(ScriptedRunner witness)
    {
        var checks = witness.OverdueChecks;
        await Eventually.Until(() =>
        {
            if (witness.OverdueChecks > checks) return true;
            time.Advance(TimeSpan.FromMilliseconds(100));
            return false;
        }, "a sweep");
    }

    private sealed class ScriptedLauncher : IRunnerLauncher
    {
        private readonly List<ScriptedRunner> started = [];

        public bool StartReady { get; set; } = true;
        public bool Hold { get; set; }
        public RunOutcome Outcome { get; set; } = RunOutcome.Completed;
        public Exception? Failure { get; set; }

        public IReadOnlyList<ScriptedRunner> Started
        {
            get
            {
                lock (started) return [.. started];
            }
        }

        public Task<IRunner> StartAsync(string canvas)
        {
            if (Failure is { } failure) return Task.FromException<IRunner>(failure);
            var runner = new ScriptedRunner(canvas, 1_000 + Started.Count, this);
            if (StartReady) runner.BecomeReady();
            lock (started) started.Add(runner);
            return Task.FromResult<IRunner>(runner);
        }
    }

    private sealed class ScriptedRunner(string canvas, int pid, ScriptedLauncher launcher) : IRunner
    {
        private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<RunnerExit> ended =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<HandlerRun> ran = [];
        private readonly List<string> kills = [];
        private readonly List<(Guid EventId, string By)> cancels = [];
        private TaskCompletionSource held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int overdueChecks;

        public string Canvas => canvas;
        public int Pid => pid;
        public bool IsReady => ready.Task.IsCompletedSuccessfully && !Closed;
        public bool Closed => ended.Task.IsCompleted;
        public int Running { get; set; }
        public long LastActive { get; set; } = Environment.TickCount64;
        public Task<RunnerExit> Ended => ended.Task;
        public int OverdueChecks => Volatile.Read(ref overdueChecks);

        public IReadOnlyList<HandlerRun> Ran
        {
            get
            {
                lock (ran) return [.. ran];
            }
        }

        public IReadOnlyList<string> Kills
        {
            get
            {
                lock (kills) return [.. kills];
            }
        }

        public List<int> Unloaded { get; } = [];

        public void BecomeReady() => ready.TrySetResult();

        public void Crash(string cause) => ended.TrySetResult(new RunnerExit("crashed", cause, 139, TimeSpan.Zero));

        /// <summary>Ends the run it holds (with <see cref="ScriptedLauncher.Hold"/>).</summary>
        public void Finish() => held.TrySetResult();

        public Task WaitReadyAsync(CancellationToken cancellationToken) => ready.Task.WaitAsync(cancellationToken);

        public async Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping)
        {
            lock (ran) ran.Add(run);
            if (launcher.Hold)
            {
                await held.Task;
                held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            return new HandlerOutcome(launcher.Outcome, TimeSpan.Zero, ErrorMessage: "runner crashed: SIGSEGV");
        }

        public void Unload(int key) => Unloaded.Add(key);

        public void KillOverdue(long now) => Interlocked.Increment(ref overdueChecks);

        public IReadOnlyList<(Guid EventId, string By)> Cancels
        {
            get
            {
                lock (ran) return [.. cancels];
            }
        }

        public bool Cancel(Guid eventId, string by, long deadline)
        {
            lock (ran)
            {
                if (!ran.Exists(r => r.Envelope.Id == eventId)) return false;
                cancels.Add((eventId, by));
                return true;
            }
        }

        public void Kill(string reason)
        {
            lock (kills) kills.Add(reason);
            ended.TrySetResult(new RunnerExit(reason, null, 137, TimeSpan.Zero));
        }
    }
}
