using Workq.Client;

namespace Workq.Tests.Isolation;

/// <summary>
/// Issue 13's noisy-neighbour collection: each attack runs in the noisy canvas while the neighbour's stream runs beside
/// it. The attack costs its own canvas a runner restart at most, its event ends failed, timed out or dead-lettered with
/// the cause named, and the neighbour sees nothing (<see cref="NoisyNeighbours.AssertNeighbourUnharmedAsync"/>).
/// </summary>
[Collection(NoisyNeighbourCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Alone)]
public sealed class NoisyNeighbourTests(NoisyNeighbours tenants, ITestOutputHelper output)
{
    [Fact]
    public async Task A_stack_overflow_crashes_only_its_canvas_runner_and_the_event_dead_letters_after_a_second_crash()
    {
        var since = tenants.Mark();
        var id = (await tenants.AttackAsync(
            "recurse",
            "int Down(int n) => n == 0 ? 0 : 1 + Down(n - 1); return Down(100_000_000);")).Single();

        var deadLetters = await tenants.Cluster.EventuallyAsync(
            async () => (await tenants.Cluster.JsonAsync(
                HttpMethod.Get,
                tenants.Cluster.ControlUrl($"/v1/canvases/{tenants.Noisy}/workers/recurse/dead-letters"),
                tenants.NoisyToken)).As<List<DeadLetter>>(),
            d => d.Count == 1, NoisyNeighbours.Patience, "the event to be dead-lettered");
        var deadLetter = deadLetters.Single();
        Assert.Equal(id, deadLetter.Id);
        Assert.Contains("runner crashed: stack overflow", deadLetter.Reason, StringComparison.Ordinal);
        var trace = await tenants.TraceAsync("recurse", id);
        Assert.Equal("failed", trace.Status);
        Assert.Equal("RunnerCrashed", trace.Error!.Type);
        Assert.Contains("stack overflow", trace.Error.Message, StringComparison.Ordinal);

        // The dashboard and the stats say what happened to the canvas's runner.
        var worker = await tenants.Cluster.EventuallyAsync(
            () => tenants.Cluster.GetWorkerDetailAsync(tenants.Noisy, "recurse"),
            w => w.Runner?.Crashes >= 2,
            NoisyNeighbours.Patience,
            "the runner's crashes in the worker object");
        Assert.Equal("stack overflow", worker.Runner!.LastCrash);
        Assert.NotNull(worker.Runner.LastCrashAt);

        await tenants.AssertNeighbourUnharmedAsync(since, "stack overflow", output);
        await AssertCanvasRecoversAsync("recurse");
    }

    public static TheoryData<string, string, string> EndsTheProcess => new()
    {
        {
            "async void",
            "async void Later() { await Task.Delay(200); throw new Exception(\"late\"); } Later(); return 1;",
            "async void" },
        { "finalizer", "class Bomb { ~Bomb() { throw new Exception(\"late\"); } } new Bomb(); return 1;", "finalizer" },
        { "fail fast", "Environment.FailFast(\"bye\"); return 1;", "System.Environment" },
        { "exit", "Environment.Exit(1); return 1;", "System.Environment" },
        {
            "thread",
            "new System.Threading.Thread(() => throw new Exception(\"late\")).Start(); return 1;",
            "System.Threading.Thread" },
    };

    [Theory]
    [MemberData(nameof(EndsTheProcess))]
    public async Task Code_that_would_end_its_process_outside_a_run_is_refused_at_deploy(
        string attack,
        string code,
        string api)
    {
        var refused = await tenants.Cluster.JsonAsync(
            HttpMethod.Put,
            tenants.Cluster.ControlUrl($"/v1/canvases/{tenants.Noisy}/workers/end-{attack.Replace(' ', '-')}"),
            tenants.NoisyToken,
            new JsonObject { ["code"] = code }.ToJsonString(),
            expect: 400);
        Assert.Contains(
            refused.As<Problem>().Errors!,
            e => e.Message.Contains(api, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_task_left_to_throw_after_the_run_does_not_crash_the_runner()
    {
        var since = tenants.Mark();
        var crashesBefore = await CrashesAsync();
        var ids = await tenants.AttackAsync(
            "unawaited",
            "async Task Later() { await Task.Delay(100); throw new Exception(\"late\"); } _ = Later(); return 1;",
            events: 5);

        foreach (var id in ids) Assert.Equal(
            "completed",
            (await tenants.TraceAsync("unawaited", id)).Status);
        // Given time to throw, and then some more events: the same runner takes them.
        var later = new List<Guid>();
        for (var i = 0; i < 3; i++)
            later.Add(await tenants.Cluster.EmitAsync(tenants.Noisy, "unawaited", "null", tenants.NoisyToken));
        foreach (var id in later) Assert.Equal(
            "completed",
            (await tenants.TraceAsync("unawaited", id)).Status);
        Assert.Equal(crashesBefore, await CrashesAsync());
        await tenants.AssertNeighbourUnharmedAsync(since, "unawaited task throwing", output);
    }

    [Fact]
    public async Task A_loop_that_never_awaits_is_timed_out_by_killing_its_runner_and_the_canvas_runs_again()
    {
        var since = tenants.Mark();
        var id = (await tenants.AttackAsync(
            "spin",
            "long n = 0; while (n >= 0) n = (n + 1) % 1_000_000_007; return n;")).Single();

        var trace = await tenants.TraceAsync("spin", id);
        Assert.Equal("timedOut", trace.Status);
        Assert.Contains("WORKQ_HANDLER_TIMEOUT", trace.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("killing its canvas's runner", trace.Error.Message, StringComparison.Ordinal);
        await tenants.AssertNeighbourUnharmedAsync(since, "loop that never awaits", output);
        await AssertCanvasRecoversAsync("spin");
        await tenants.Cluster.EventuallyAsync(
            () => tenants.Cluster.GetWorkerDetailAsync(tenants.Noisy, "spin"),
            w => w.Runner!.Restarts >= 1,
            NoisyNeighbours.Patience,
            "the killed runner's replacement to count as a restart");
    }

    [Fact]
    public async Task Blocking_every_thread_of_its_runner_times_out_the_noisy_events_only()
    {
        var since = tenants.Mark();
        var ids = await tenants.AttackAsync(
            "block",
            "Task.Delay(60_000).Wait(); return 1;",
            events: 80,
            concurrency: 80);

        var worker = await tenants.Cluster.EventuallyAsync(
            () => tenants.Cluster.GetWorkerAsync(tenants.Noisy, "block"),
            w => w.Stats.Processed == ids.Count && w.Stats.Queued == 0,
            NoisyNeighbours.Patience,
            "every blocking event to end");
        // Each ran once to its time-out: failed, never completed, none run twice.
        Assert.Equal(ids.Count, worker.Stats.Failed);
        var traces = await tenants.Cluster.GetTracesAsync(tenants.Noisy, "block");
        Assert.NotEmpty(traces);
        Assert.All(traces, t => Assert.Equal("timedOut", t.Status));
        await tenants.AssertNeighbourUnharmedAsync(since, "thread-pool starvation", output);
    }

    [Fact]
    public async Task Allocating_4_GB_fails_at_the_runners_memory_limit()
    {
        var since = tenants.Mark();
        var id = (await tenants.AttackAsync(
            "hog",
            "var held = new List<byte[]>(); for (var i = 0; i < 4096; i++) held.Add(new byte[1 << 20]); "
            + "return held.Count;")).Single();

        var trace = await tenants.TraceAsync("hog", id);
        Assert.Equal("failed", trace.Status);
        var error = $"{trace.Error?.Type}: {trace.Error?.Message}";
        Assert.True(error.Contains("OutOfMemoryException", StringComparison.Ordinal)
            || error.Contains("out of memory", StringComparison.Ordinal), error);
        await tenants.AssertNeighbourUnharmedAsync(since, "4 GB allocation", output);
        await AssertCanvasRecoversAsync("hog");
    }

    [Fact]
    public async Task Burning_every_core_it_can_leaves_the_neighbour_its_share()
    {
        var since = tenants.Mark();
        var ids = await tenants.AttackAsync(
            "burn",
            "var until = DateTime.UtcNow.AddSeconds(1); long spins = 0; while (DateTime.UtcNow < until) spins++; "
            + "return spins;",
            events: 32,
            concurrency: 8);

        // Eight spinning threads share the runner's one-core quota: a run may pass its time-out, which is the noisy
        // canvas's own cost.
        await tenants.Cluster.EventuallyAsync(
            () => tenants.Cluster.GetWorkerAsync(tenants.Noisy, "burn"),
            w => w.Stats.Processed == ids.Count,
            NoisyNeighbours.Patience,
            "every burner to end");
        Assert.All(
            await tenants.Cluster.GetTracesAsync(tenants.Noisy, "burn"),
            t => Assert.Contains(t.Status, new[] { "completed", "timedOut" }));
        await tenants.AssertNeighbourUnharmedAsync(since, "CPU burners", output);
    }

    [Fact]
    public async Task A_runner_holds_no_credential_of_the_worker_service()
    {
        await tenants.AttackAsync("env", "return 1;");
        var supervisor = tenants.Cluster.Workers.Single(w => !w.HasExited);
        // By command line: a runner an earlier attack killed may linger unreaped, a zombie with no environment left.
        var runners = await tenants.Cluster.EventuallyAsync(
            () => Task.FromResult(ProcessSample.Children(supervisor.Id, "Workq.Runner.dll")),
            r => r.Count >= 2,
            NoisyNeighbours.Patience,
            "the neighbour's and the noisy canvas's runners");

        // Secrets the worker service was started with: none may reach a process that holds hostile code.
        var secrets = tenants.Cluster.ServiceEnvironment
            .Where(e => e.Key.StartsWith("WORKQ_", StringComparison.Ordinal) && e.Value.Length >= 8)
            .ToList();
        Assert.NotEmpty(secrets);
        foreach (var pid in runners)
        {
            var environment = File.ReadAllText($"/proc/{pid}/environ")
                .Split('\0', StringSplitOptions.RemoveEmptyEntries);
            Assert.DoesNotContain(environment, e => e.StartsWith("WORKQ_", StringComparison.Ordinal));
            foreach (var (key, value) in secrets) Assert.DoesNotContain(
                environment,
                e => e.Contains(value, StringComparison.Ordinal));
            Assert.Contains(environment, e => e.StartsWith("DOTNET_GCHeapHardLimit=", StringComparison.Ordinal));
            Assert.Contains("Workq.Runner.dll", File.ReadAllText($"/proc/{pid}/cmdline"), StringComparison.Ordinal);
        }
    }

    /// <summary>The noisy canvas's runner crashes so far: every worker object of the canvas shows its runner.</summary>
    private async Task<int> CrashesAsync()
    {
        var workers = (await tenants.Cluster.JsonAsync(
            HttpMethod.Get,
            tenants.Cluster.ControlUrl($"/v1/canvases/{tenants.Noisy}/workers"),
            tenants.NoisyToken)).As<List<WorkerDetail>>();
        return workers.Select(w => w.Runner?.Crashes ?? 0).DefaultIfEmpty(0).Max();
    }

    /// <summary>After the attack its canvas runs ordinary code again, in a fresh runner.</summary>
    private async Task AssertCanvasRecoversAsync(string worker)
    {
        await tenants.Cluster.DeployAsync(tenants.Noisy, worker, "return 42;", token: tenants.NoisyToken, expect: 200);
        var id = await tenants.Cluster.EmitAsync(tenants.Noisy, worker, "null", tenants.NoisyToken);
        var trace = await tenants.TraceAsync(worker, id);
        Assert.Equal("completed", trace.Status);
        Assert.Equal(42, trace.Result!.GetValue<int>());
    }
}
