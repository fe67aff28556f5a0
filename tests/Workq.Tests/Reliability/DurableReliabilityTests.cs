using System.Diagnostics;
using System.Globalization;

namespace Workq.Tests.Reliability;

/// <summary>
/// Durable handlers under faults (API.md "Durable handlers", guarantees), each step's effect counted at an HTTP sink:
/// a step kept before a kill -9 of its worker never runs again, one killed before it was kept runs again (at least
/// once); sleeping events survive the whole data path killed; 10,000 sleeping events hold no slot and wake on time; a
/// cancelled handler that ignores its token is stopped within the grace while a neighbour canvas keeps its pace; a
/// trailing debounce survives the data path killed in its period and runs once. Kills
/// only its own cluster's services (the batch faults' cluster), so it runs in the background.
/// </summary>
[Collection(BatchFaultsCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Background)]
[Trait("Category", "Reliability")]
public sealed class DurableReliabilityTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Posts "<paramref name="what"/> {event id}" to the sink.</summary>
    private static string Effect(CallbackSink sink, string what) => $$"""
        using (var r = await Http.PostAsync("{{sink.Url}}",
            new System.Net.Http.StringContent("{{what}} " + Meta.Id))) r.EnsureSuccessStatusCode();
        """;

    private static int Count(CallbackSink sink, string what, Guid id) => sink.Calls.Count(c => c == $"{what} {id}");

    /// <summary>
    /// A handler time-out far past the handlers' own waits (2 s), so that on a loaded machine the time-out never ends a
    /// run that a kill or a cancel is meant to.
    /// </summary>
    private static readonly Dictionary<string, string> LongTimeout = new() { ["WORKQ_HANDLER_TIMEOUT_SECONDS"] = "30" };

    /// <summary>Exactly <paramref name="count"/> live worker instances, started with <paramref name="env"/>.</summary>
    private async Task WorkersAsync(int count, Dictionary<string, string>? env = null)
    {
        foreach (var live in cluster.Workers.Where(w => !w.HasExited).ToList()) live.Kill();
        cluster.Workers.Clear();
        for (var i = 0; i < count; i++) await cluster.StartWorkerAsync(env);
    }

    /// <summary>The event's status, "unknown" while its 202's status is not flushed yet.</summary>
    private async Task<string> StatusAsync(string canvas, Guid id, string token)
    {
        using var response = await cluster.SendAsync(HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}"), token);
        return response.StatusCode == HttpStatusCode.NotFound
            ? "unknown"
            : JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>();
    }

    private async Task<JsonNode> FinishedAsync(string canvas, Guid id, string token, TimeSpan? within = null) =>
        await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}?wait=20"), token))!,
            s => s["status"]!.GetValue<string>() is "completed" or "failed" or "timedOut" or "cancelled",
            within ?? Patience,
            $"event {id} finished");

    [Fact]
    public async Task A_step_kept_before_a_kill_9_never_runs_again_and_one_killed_before_it_was_kept_runs_again()
    {
        await WorkersAsync(1, LongTimeout);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("dk");
        // After the step: the kill comes while it waits, the step kept.
        await cluster.DeployAsync(canvas, "after", $$"""
            await Step("charge", async () => { {{Effect(sink, "charge")}} });
            {{Effect(sink, "after")}}
            await Task.Delay(2_000, CancellationToken);
            return 1;
            """, token: token);
        // During the step: the kill comes before it is kept.
        await cluster.DeployAsync(canvas, "during", $$"""
            await Step("charge", async () =>
            {
                {{Effect(sink, "charge")}}
                await Task.Delay(2_000, CancellationToken);
            });
            return 1;
            """, token: token);
        var after = new List<Guid>();
        var during = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            after.Add(await cluster.EmitAsync(canvas, "after", "{}", token));
            during.Add(await cluster.EmitAsync(canvas, "during", "{}", token));
        }
        await cluster.EventuallyAsync(() => Task.FromResult(sink.Calls.ToList()),
            calls => after.All(id => calls.Contains($"after {id}")) && during.All(id => calls.Contains($"charge {id}")),
            Patience, "every run past its step, or in it");
        cluster.Workers[0].Kill();
        await WorkersAsync(1, LongTimeout);

        foreach (var id in after.Concat(during))
            Assert.Equal("completed", (await FinishedAsync(canvas, id, token))["status"]!.GetValue<string>());
        var afterCharges = after.Sum(id => Count(sink, "charge", id));
        var duringCharges = during.Sum(id => Count(sink, "charge", id));
        output.WriteLine(FaultReport.Durable.Add("kill -9 of the worker instance right after a step was kept", "5",
            "5 (once each)", $"{afterCharges}", "the runs went on after it, then were redelivered: the step replayed"));
        output.WriteLine(FaultReport.Durable.Add("kill -9 of the worker instance during a step (before it was kept)",
            "5", "5 to 10 (at least once)", $"{duringCharges}",
            "redelivered: the step ran again (API.md: a step must be idempotent for this window)"));
        Assert.All(after, id => Assert.Equal(1, Count(sink, "charge", id)));
        Assert.All(after, id => Assert.Equal(2, Count(sink, "after", id)));
        Assert.All(during, id => Assert.Equal(2, Count(sink, "charge", id)));
    }

    [Fact]
    public async Task Events_sleeping_through_kill_9_of_the_whole_data_path_wake_and_run_each_step_once()
    {
        await WorkersAsync(2, LongTimeout);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("ds");
        // Asleep long enough that none is due before the kill: a pump killed as it publishes a resume publishes it
        // again (at least once), which is another test's subject.
        await cluster.DeployAsync(canvas, "nap", $$"""
            await Step("before", async () => { {{Effect(sink, "before")}} });
            await Sleep(TimeSpan.FromSeconds(10));
            await Step("after", async () => { {{Effect(sink, "after")}} });
            return Meta.Resume;
            """, concurrency: 20, token: token);
        var ids = await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 50).Select(_ => ("nap", "{}")), token);
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "nap"),
            w => w["stats"]!["sleeping"]!.GetValue<int>() == ids.Count, Patience, "all 50 asleep");

        await cluster.KillAndRestartDataPathAsync(LongTimeout);

        foreach (var id in ids)
            Assert.Equal(1, (await FinishedAsync(canvas, id, token))["result"]!.GetValue<int>());
        var before = ids.Sum(id => Count(sink, "before", id));
        var afterCount = ids.Sum(id => Count(sink, "after", id));
        output.WriteLine(FaultReport.Durable.Add(
            "kill -9 of emitter, dispatcher and both workers while 50 events sleep (a step before, one after)", "50",
            "100 (once each)", $"{before + afterCount}", "all woke after the restart, resumed once"));
        Assert.All(ids, id => Assert.Equal((1, 1), (Count(sink, "before", id), Count(sink, "after", id))));
    }

    [Fact]
    public async Task A_trailing_debounce_survives_kill_9_of_the_whole_data_path_and_runs_once_with_the_last_event()
    {
        await WorkersAsync(1);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("dd");
        await cluster.DeployAsync(canvas, "index", $$"""
            {{Effect(sink, "run")}}
            return Event;
            """, token: token);
        // A period longer than the restart takes: the emits after it still fall in it. 20 s was not: beside the
        // background lane's containers the restart took 25 s, the run came due in the middle of it (as it should), and
        // the later emits started a debounce of their own. The emitter's address is read at each emit: the restarted
        // one listens elsewhere.
        var period = TimeSpan.FromSeconds(60);
        async Task<Guid> EmitAsync(int n) => Guid.Parse((await cluster.JsonAsync(HttpMethod.Post,
            cluster.EmitUrl(
                $"/v1/canvases/{canvas}/workers/index/events?debounceKey=doc&debounceSeconds={period.TotalSeconds}"),
            token, $$"""{"n":{{n}}}""", expect: 202))!["id"]!.GetValue<string>());
        var ids = new List<Guid>();
        for (var n = 0; n < 5; n++) ids.Add(await EmitAsync(n));

        var killedAt = Stopwatch.GetTimestamp();
        await cluster.KillAndRestartDataPathAsync();
        var restart = Stopwatch.GetElapsedTime(killedAt);
        Assert.True(restart < period - TimeSpan.FromSeconds(5),
            $"the restart took {restart}: longer than the debounce period less 5 s, so this run cannot show the " +
            "emits after it joining the period");
        for (var n = 5; n < 10; n++) ids.Add(await EmitAsync(n));

        var done = await FinishedAsync(canvas, ids[0], token, period + Patience);
        output.WriteLine(FaultReport.Durable.Add(
            "kill -9 of emitter, dispatcher and worker in the middle of a debounce period (5 emits before, 5 after)",
            "10 emits", "1 run", $"{Count(sink, "run", ids[0])}", $"its event n = {done["result"]!["n"]}"));
        Assert.Single(ids.Distinct());
        Assert.Equal("completed", done["status"]!.GetValue<string>());
        Assert.Equal(9, done["result"]!["n"]!.GetValue<int>());
        Assert.Equal(10, done["debounce"]!["absorbed"]!.GetValue<int>());
        Assert.Equal(1, Count(sink, "run", ids[0]));
    }

    [Fact]
    public async Task Ten_thousand_sleeping_events_hold_no_slot_and_wake_on_time()
    {
        const int events = 10_000;
        await WorkersAsync(1);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("dt");
        // Each sleeps until the time in its event, then tells the sink how late it woke, in milliseconds: every one
        // that woke early, and a sample of a tenth of the others (10,000 requests would load the machine more than
        // the wakes do).
        await cluster.DeployAsync(canvas, "nap", $$"""
            var at = DateTimeOffset.Parse(Event!["at"]!.GetValue<string>(),
                System.Globalization.CultureInfo.InvariantCulture);
            await SleepUntil(at);
            var late = (DateTimeOffset.UtcNow - at).TotalMilliseconds;
            if (late < 0 || Event!["i"]!.GetValue<int>() % 10 == 0)
                using (var r = await Http.PostAsync("{{sink.Url}}", new System.Net.Http.StringContent(
                    Meta.Id + " " + late.ToString(System.Globalization.CultureInfo.InvariantCulture)))) { }
            return late;
            """, concurrency: 50, token: token);
        // Wake times spread over thirty seconds, from 75 s on: enough to put them all to sleep first, on a machine busy
        // with the other tests (alone they fall asleep in 5 s; beside the whole suite in CI, 9,124 once did in 55 s).
        var first = DateTimeOffset.UtcNow.AddSeconds(75);
        var falling = Stopwatch.StartNew();
        for (var chunk = 0; chunk < events / 1000; chunk++)
            await cluster.EmitBatchAsync(canvas, Enumerable.Range(chunk * 1000, 1000).Select(i =>
                ("nap", $$"""{"i":{{i}},"at":"{{first.AddMilliseconds(3 * (i % 10_000)).ToString("O",
                    CultureInfo.InvariantCulture)}}"}""")), token);

        // Asleep, they hold no slot (in flight as the instance last reported it).
        var asleep = await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "nap"),
            w => w["stats"]!["sleeping"]!.GetValue<int>() == events && w["stats"]!["inFlight"]!.GetValue<int>() == 0,
            TimeSpan.FromSeconds(70), "all asleep, none in flight");
        Assert.True(DateTimeOffset.UtcNow < first, "they fell asleep too slowly for the test to mean anything");
        var runners = (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl("/v1/instances"),
            cluster.AdminToken))!.ToJsonString();
        output.WriteLine($"asleep in {falling.Elapsed.TotalSeconds:0.0} s: {asleep["stats"]!.ToJsonString()}; " +
            $"instances: {runners}");

        // Every one ran twice (asleep, then awake), and none is asleep any more.
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "nap"),
            w => w["stats"]!["processed"]!.GetValue<int>() >= 2 * events
                && w["stats"]!["sleeping"]!.GetValue<int>() == 0,
            TimeSpan.FromSeconds(120), "all awake");
        var woke = await cluster.EventuallyAsync(() => Task.FromResult(sink.Calls.ToList()),
            calls => calls.Count >= events / 10, TimeSpan.FromSeconds(30), "the sample told");
        var lateness = woke.Select(c => double.Parse(c.Split(' ')[1], CultureInfo.InvariantCulture)).Order().ToList();
        double At(double q) => lateness[(int)Math.Min(lateness.Count - 1, q * lateness.Count)];
        output.WriteLine(FaultReport.Durable.Add("10,000 events asleep at once (waking over 30 s), none in flight",
            $"{events}", "-", "-",
            $"woke late by p50 {At(0.5):0} ms, p99 {At(0.99):0} ms, max {lateness[^1]:0} ms (a sample of " +
            $"{lateness.Count}); earliest {lateness[0]:0} ms"));
        Assert.True(lateness[0] >= 0, $"one woke {lateness[0]} ms early");
        Assert.Equal(events / 10, woke.Select(c => c.Split(' ')[0]).Distinct().Count());
        // How late is the machine's, not a bound: alone, p99 is under a second (BENCHMARKS.md); beside the whole suite
        // on two cores the burst is bound by the CPU. What holds everywhere: none early, none lost, every one awake.
    }

    [Fact]
    public async Task A_cancelled_handler_ignoring_its_token_stops_within_the_grace_and_a_neighbour_keeps_its_pace()
    {
        // A grace of 1 s, and a time-out far past it, so that the cancel, not the time-out, stops it.
        await WorkersAsync(1, new Dictionary<string, string>(LongTimeout) { ["WORKQ_CANCEL_GRACE_SECONDS"] = "1" });
        var (canvas, token) = await cluster.CreateCanvasAsync("dc");
        var (neighbour, neighbourToken) = await cluster.CreateCanvasAsync("dn");
        await cluster.DeployAsync(canvas, "spin", "while (true) { } ", token: token);
        await cluster.DeployAsync(neighbour, "tick", "return 1;", token: neighbourToken);
        // The neighbour's runner started, so that its waits measure the cancel and not its runner's cold start.
        await FinishedAsync(neighbour, await cluster.EmitAsync(neighbour, "tick", "{}", neighbourToken),
            neighbourToken);
        var spinning = await cluster.EmitAsync(canvas, "spin", "{}", token);
        await cluster.EventuallyAsync(() => StatusAsync(canvas, spinning, token), s => s == "running", Patience,
            "the spin running");

        var cancelledAt = DateTimeOffset.UtcNow;
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/events/{spinning}/cancel"),
            token, expect: 202);
        var ticks = new List<Guid>();
        var done = await cluster.EventuallyAsync(async () =>
            {
                ticks.Add(await cluster.EmitAsync(neighbour, "tick", "{}", neighbourToken));
                return await StatusAsync(canvas, spinning, token);
            },
            s => s == "cancelled", TimeSpan.FromSeconds(25), "the spin cancelled");
        var trace = await cluster.TraceOfAsync(canvas, "spin", spinning, Patience);
        // When its run ended, as the worker traced it: the status's flush and this poll come after.
        var stoppedIn = trace["finishedAt"]!.GetValue<DateTimeOffset>() - cancelledAt;
        Assert.Equal("cancelled", done);
        Assert.Contains("did not stop within WORKQ_CANCEL_GRACE_SECONDS",
            trace["error"]!["message"]!.GetValue<string>());
        // Alone, within the grace (1 s) plus 1 s (1.1 s measured). Beside the whole suite on two cores, with the
        // cluster tests' brokers in containers, the cancel's way to the worker (control, the broker, the worker's
        // control-plane consumer) took from 1 to over 10 s: the bound says only that the kill after the grace
        // stopped it, long before the 30 s time-out would have (the error above says which of the two ended it).
        Assert.InRange(stoppedIn, TimeSpan.Zero, TimeSpan.FromSeconds(20));
        foreach (var id in ticks)
            Assert.Equal("completed",
                (await FinishedAsync(neighbour, id, neighbourToken))["status"]!.GetValue<string>());
        // The last ten runs: the ticks sent while the spin was being stopped.
        await cluster.TraceOfAsync(neighbour, "tick", ticks[^1], Patience);
        var waits = (await cluster.TracesAsync(neighbour, "tick"))
            .Where(t => ticks.Contains(t!["eventId"]!.GetValue<Guid>()))
            .Select(t => t!["queueWaitMs"]!.GetValue<double>()).Order().ToList();
        output.WriteLine($"cancelled in {stoppedIn.TotalMilliseconds:0} ms: {trace["error"]}; neighbour waits " +
            $"{string.Join(", ", waits.Select(w => w.ToString("0", CultureInfo.InvariantCulture)))} ms");
        Assert.True(waits[^1] < 1_000, $"a neighbour's event waited {waits[^1]} ms");
    }
}
