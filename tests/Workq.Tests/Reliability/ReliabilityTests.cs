namespace Workq.Tests.Reliability;

/// <summary>
/// "Nothing lost", proven under faults: worker processes killed mid-flight, a poison event that
/// crashes its worker every time, PostgreSQL stopped, RabbitMQ restarted under load. Every event
/// that got a 202 must end processed or dead-lettered. Runs alone: it stops shared servers.
/// </summary>
[Collection(ReliabilityCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Alone)]
[Trait("Category", "Reliability")]
public sealed class ReliabilityTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private const string RecordCode = """
        using (var r = await Http.PostAsync("{0}", new StringContent(Meta.Id.ToString()), CancellationToken)) {{ }}
        return null;
        """;

    private async Task<(string Canvas, string Token)> RecordingWorkerAsync(
        CallbackSink sink,
        string worker,
        int concurrency)
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("rel");
        await cluster.DeployAsync(canvas, worker, string.Format(RecordCode, sink.Url), concurrency, token);
        return (canvas, token);
    }

    private static readonly Dictionary<string, string> InProcess = new() { ["WORKQ_ISOLATION"] = "none" };

    private async Task EnsureWorkersAsync(int count, IReadOnlyDictionary<string, string>? environment = null)
    {
        foreach (var dead in cluster.Workers.Where(w => w.HasExited).ToList()) cluster.Workers.Remove(dead);
        while (cluster.Workers.Count < count) await cluster.StartWorkerAsync(environment);
    }

    private async Task ReplaceWorkersAsync(int count, IReadOnlyDictionary<string, string>? environment = null)
    {
        foreach (var worker in cluster.Workers.Where(w => !w.HasExited).ToList()) await worker.StopAsync(
            TimeSpan.FromSeconds(20));
        await EnsureWorkersAsync(count, environment);
    }

    private ReliabilityRow Settle(
        string scenario,
        IReadOnlyCollection<Guid> accepted,
        CallbackSink sink,
        int deadLettered,
        string notes)
    {
        var calls = sink.Calls.Select(Guid.Parse).ToList();
        var distinct = calls.ToHashSet();
        var lost = accepted.Count(id => !distinct.Contains(id)) - deadLettered;
        var row = new ReliabilityRow(
            scenario,
            accepted.Count,
            distinct.Count(accepted.Contains),
            calls.Count - distinct.Count,
            deadLettered,
            lost,
            notes);
        output.WriteLine(FaultReport.Reliability.Add(row));
        return row;
    }

    private async Task WaitForAllAsync(
        IReadOnlyCollection<Guid> accepted,
        CallbackSink sink,
        TimeSpan timeout,
        string what) =>
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Select(Guid.Parse).ToHashSet()),
            seen => accepted.All(seen.Contains),
            timeout,
            what);

    [Fact]
    public async Task Killing_a_worker_process_mid_flight_loses_no_event()
    {
        await EnsureWorkersAsync(2);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await RecordingWorkerAsync(sink, "rec", concurrency: 50);
        await cluster.EventuallyAsync(
            () => cluster.WorkerAsync(canvas, "rec"),
            w => w["stats"]!["consumers"]!.GetValue<long>() == 2,
            TimeSpan.FromSeconds(30),
            "two consumers");

        var accepted = new List<Guid>();
        for (var batch = 0; batch < 20; batch++)
            accepted.AddRange(await cluster.EmitBatchAsync(
                canvas,
                Enumerable.Range(0, 500).Select(i => ("rec", $$"""{"n":{{batch * 500 + i}}}""")),
                token));
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c >= 1_500,
            TimeSpan.FromSeconds(60),
            "events in flight");

        var victim = cluster.Workers[0];
        var runners = ProcessSample.Children(victim.Id);
        Assert.NotEmpty(runners);
        victim.Kill();
        var killedAfter = sink.Calls.Count;
        await EnsureWorkersAsync(2);
        // Its runners end with it (their channel closed): no orphan keeps running handler code.
        await cluster.EventuallyAsync(
            () => Task.FromResult(runners.Count(r => Directory.Exists($"/proc/{r}"))),
            alive => alive == 0,
            TimeSpan.FromSeconds(10),
            "the killed instance's runners to exit");

        await WaitForAllAsync(accepted, sink, TimeSpan.FromMinutes(3), "all 10,000 events processed after the kill");
        var row = Settle(
            "kill -9 a worker instance with 10,000 events in flight",
            accepted,
            sink,
            0,
            $"killed after {killedAfter} runs; a replacement started");
        Assert.Equal(0, row.Lost);
    }

    [Fact]
    public async Task An_instance_whose_broker_connection_drops_as_workers_change_returns_with_one_consumer_per_queue()
    {
        await EnsureWorkersAsync(1);
        var instances = cluster.Workers.Count(w => !w.HasExited);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("rec");
        string[] workers = ["a", "b", "c"];
        foreach (var worker in workers) await cluster.DeployAsync(
            canvas,
            worker,
            string.Format(RecordCode, sink.Url),
            concurrency: 5,
            token);
        var queues = workers.Select(w => $"workq.worker.{canvas}.{w}").ToList();
        Task<IReadOnlyDictionary<string, int>> Consumers() => cluster.Rabbit.ConsumersAsync(cluster.VirtualHost);
        bool OnePerInstance(IReadOnlyDictionary<string, int> consumers)
            => queues.All(q => consumers.GetValueOrDefault(q) == instances);
        await cluster.EventuallyAsync(
            Consumers,
            OnePerInstance,
            TimeSpan.FromSeconds(30),
            "one consumer per instance on every worker queue");

        var victim = cluster.Workers.First(w => !w.HasExited);
        for (var round = 0; round < 3; round++)
        {
            // The management API lists a recovered connection a few seconds after it opened.
            await cluster.EventuallyAsync(
                () => cluster.Rabbit.CloseConnectionsAsync(cluster.VirtualHost, $"-{victim.Id}"),
                closed => closed == 1,
                TimeSpan.FromSeconds(30),
                $"{victim.Name}'s broker connection closed (drop {round + 1})");
            // While the client recovers the connection, every worker changes: each change replaces its consumer on the
            // instance.
            foreach (var worker in workers)
                await cluster.JsonAsync(
                    HttpMethod.Patch,
                    cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"),
                    token,
                    $$"""{"concurrency":{{6 + round}}}""");
            await cluster.EventuallyAsync(
                Consumers,
                OnePerInstance,
                TimeSpan.FromSeconds(60),
                $"one consumer per instance on every worker queue after drop {round + 1}");
        }

        var accepted = await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 300).Select(i => (workers[i % 3], $$"""{"n":{{i}}}""")),
            token);
        await WaitForAllAsync(accepted, sink, TimeSpan.FromSeconds(60), "every event emitted after the drops");
        // No copy of a consumer was left behind by a recovery: it would hold events unacked and count here. Polled: the
        // management API's counts lag the broker by up to its statistics interval (5 s), and once read 0 here while
        // the instance was consuming every queue.
        var after = await cluster.EventuallyAsync(
            Consumers,
            OnePerInstance,
            TimeSpan.FromSeconds(30),
            "one consumer per instance on every worker queue after the events ran");
        Assert.All(queues, q => Assert.Equal(instances, after.GetValueOrDefault(q)));
        var row = Settle(
            "broker connection of a worker instance closed 3 times while its workers change",
            accepted.ToList(),
            sink,
            0,
            $"{instances} instance(s); one consumer each on every queue afterwards");
        Assert.Equal(0, row.Lost);
    }

    [Fact]
    public async Task Delayed_emits_survive_kill_9_of_the_emitter_dispatcher_and_workers_and_run_no_earlier_than_due()
    {
        await EnsureWorkersAsync(1);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await RecordingWorkerAsync(sink, "later", concurrency: 10);
        var due = DateTimeOffset.UtcNow.AddSeconds(3);
        var single = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/later/events?delaySeconds=3"),
            token,
            "1",
            expect: 202);
        var accepted = new List<Guid> { single!["id"]!.GetValue<Guid>() };
        var body = "["
            + string.Join(",", Enumerable.Range(0, 20).Select(i => """{"worker":"later","event":0,"delaySeconds":3}"""))
            + "]";
        accepted.AddRange((await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token,
            body,
            expect: 202))!["ids"]!
            .AsArray().Select(i => i!.GetValue<Guid>()));

        await cluster.KillAndRestartDataPathAsync();
        await WaitForAllAsync(accepted, sink, TimeSpan.FromMinutes(2), "every delayed event run after the kill");
        var traces = await cluster.TracesAsync(canvas, "later");
        Assert.All(
            traces,
            t => Assert.True(t!["startedAt"]!.GetValue<DateTimeOffset>() >= due, "a delayed event ran early"));
        var row = Settle(
            "kill -9 of emitter, dispatcher and workers with 20 delayed emits waiting",
            accepted,
            sink,
            0,
            "all started again; the events were 3 s ahead");
        Assert.Equal(0, row.Lost);
    }

    private string PoisonCode(CallbackSink sink) => $$"""
        if (Event!["poison"] is not null)
        {
            int Recurse(int n) => Recurse(n + 1) + 1;
            return Recurse(0);
        }
        {{string.Format(RecordCode, sink.Url)}}
        """;

    [Fact]
    public async Task A_poison_event_that_crashes_its_runner_each_time_dead_letters_after_two_crashes_none_exits()
    {
        await EnsureWorkersAsync(2);
        var instances = cluster.Workers.Where(w => !w.HasExited).ToList();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("poison");
        // A stack overflow cannot be caught: it ends the canvas's runner process, on every delivery.
        await cluster.DeployAsync(canvas, "p", PoisonCode(sink), concurrency: 5, token: token);

        var poison = await cluster.EmitAsync(canvas, "p", """{"poison":true}""", token);
        var accepted = new List<Guid>();
        var deadLettersUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/p/dead-letters");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        JsonArray deadLetters = [];
        while (deadLetters.Count == 0 && DateTime.UtcNow < deadline)
        {
            accepted.Add(await cluster.EmitAsync(canvas, "p", """{"ok":true}""", token));
            deadLetters = (await cluster.JsonAsync(HttpMethod.Get, deadLettersUrl, token))!.AsArray();
            await Task.Delay(100);
        }
        var deadLetter = Assert.Single(deadLetters)!;
        Assert.Equal(poison.ToString(), deadLetter["id"]!.GetValue<string>());
        Assert.Contains("runner crashed: stack overflow", deadLetter["reason"]!.GetValue<string>());
        Assert.Equal(2, deadLetter["attempts"]!.GetValue<int>());
        Assert.All(instances, instance => Assert.False(instance.HasExited, "a worker instance exited"));

        await WaitForAllAsync(accepted, sink, TimeSpan.FromMinutes(2), "the other events processed");
        var row = Settle("poison event crashing its canvas's runner on every delivery", [.. accepted, poison], sink, 1,
            "dead-lettered after 2 runner crashes; no worker instance exited");
        Assert.Equal(0, row.Lost);
    }

    [Fact]
    public async Task In_process_a_poison_event_crashing_its_worker_each_time_is_dead_lettered_and_others_keep_flowing()
    {
        // WORKQ_ISOLATION=none: the stack overflow takes the worker service down, and the broker's delivery limit ends
        // it.
        await ReplaceWorkersAsync(2, InProcess);
        try
        {
            await using var sink = await CallbackSink.StartAsync();
            var (canvas, token) = await cluster.CreateCanvasAsync("poison");
            // One event at a time per instance: in process, every event in flight beside the poison dies with the
            // instance and is delivered again too, so with more the innocent ones could reach the delivery limit with
            // it.
            await cluster.DeployAsync(canvas, "p", PoisonCode(sink), concurrency: 1, token: token);

            var poison = await cluster.EmitAsync(canvas, "p", """{"poison":true}""", token);
            var accepted = new List<Guid>();
            var crashes = 0;
            var deadLettersUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/p/dead-letters");
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
            JsonArray deadLetters = [];
            while (deadLetters.Count == 0 && DateTime.UtcNow < deadline)
            {
                accepted.Add(await cluster.EmitAsync(canvas, "p", """{"ok":true}""", token));
                var exited = cluster.Workers.Count(w => w.HasExited);
                if (exited > 0)
                {
                    crashes += exited;
                    try
                    {
                        await EnsureWorkersAsync(2, InProcess);
                    }
                    catch (InvalidOperationException)
                    {
                        // The replacement took the poison while starting and died too: counted on the next pass.
                    }
                }
                deadLetters = (await cluster.JsonAsync(HttpMethod.Get, deadLettersUrl, token))!.AsArray();
                await Task.Delay(200);
            }
            // The last delivery's crash may come after the last look: exited instances not yet replaced are not counted
            // yet.
            crashes += cluster.Workers.Count(w => w.HasExited);
            var deadLetter = Assert.Single(deadLetters)!;
            Assert.Equal(poison.ToString(), deadLetter["id"]!.GetValue<string>());
            Assert.Contains("delivery limit", deadLetter["reason"]!.GetValue<string>());
            Assert.Equal(5, deadLetter["attempts"]!.GetValue<int>());
            Assert.InRange(crashes, 5, 10);

            await EnsureWorkersAsync(2, InProcess);
            await WaitForAllAsync(accepted, sink, TimeSpan.FromMinutes(2), "the other events processed");
            var row = Settle(
                "poison event crashing its worker process on every delivery (WORKQ_ISOLATION=none)",
                [.. accepted, poison],
                sink,
                1,
                $"{crashes} worker crashes; dead-lettered after 5 deliveries");
            Assert.Equal(0, row.Lost);
        }
        finally
        {
            await ReplaceWorkersAsync(2);
        }
    }

    [Fact]
    public async Task Stopping_PostgreSQL_for_ten_seconds_keeps_emits_working_and_loses_nothing()
    {
        await EnsureWorkersAsync(2);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await RecordingWorkerAsync(sink, "db", concurrency: 20);
        await cluster.EmitAsync(canvas, "db", "0", token);
        await cluster.EventuallyAsync(
            () => Task.FromResult(sink.Calls.Count),
            c => c == 1,
            TimeSpan.FromSeconds(30),
            "warm");

        var accepted = new ConcurrentBag<Guid>();
        var refused = 0;
        await Servers.PostgresAsync("stop");
        var stoppedAt = Stopwatch.StartNew();
        try
        {
            while (stoppedAt.Elapsed < TimeSpan.FromSeconds(10))
            {
                using var response = await cluster.SendAsync(
                    HttpMethod.Post,
                    cluster.EmitUrl($"/v1/canvases/{canvas}/workers/db/events"),
                    token,
                    """{"during":"outage"}""");
                if ((int)response.StatusCode == 202) accepted.Add(
                    Guid.Parse(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>()));
                else refused++;
                await Task.Delay(20);
            }
        }
        finally
        {
            await Servers.PostgresAsync("start");
        }
        Assert.True(
            accepted.Count > 100,
            $"only {accepted.Count} emits accepted while PostgreSQL was down ({refused} refused)");
        Assert.Equal(0, refused);

        await WaitForAllAsync(accepted, sink, TimeSpan.FromMinutes(2), "events emitted during the outage processed");
        // Counters written in batches catch up once the database is back. Control may answer 503 (with
        // Retry-After) for a moment while its pool replaces connections the restart broke.
        await cluster.EventuallyAsync(async () =>
        {
            using var response = await cluster.SendAsync(
                HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/workers/db"),
                token);
            if ((int)response.StatusCode == 503 && response.Headers.RetryAfter is not null) return -1;
            Assert.Equal(200, (int)response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["stats"]!["processed"]!.GetValue<long>();
        }, processed => processed >= accepted.Count + 1, TimeSpan.FromSeconds(60), "counters caught up");
        var row = Settle(
            "PostgreSQL stopped for 10 s during emits",
            accepted,
            sink,
            0,
            "emitter authorized from its cache; traces and counters flushed after");
        Assert.Equal(0, row.Lost);
    }

    [Fact]
    public async Task Restarting_RabbitMQ_under_emit_load_answers_503_during_the_outage_and_loses_nothing()
    {
        await EnsureWorkersAsync(2);
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await RecordingWorkerAsync(sink, "rb", concurrency: 20);
        // Durable events asleep through the outage (API.md "Durable handlers"): a step before, one after, told to a
        // sink of their own.
        await using var naps = await CallbackSink.StartAsync();
        await cluster.DeployAsync(canvas, "nap", $$"""
            await Step("before", async () => { using (await Http.PostAsync("{{naps.Url}}",
                new StringContent("before " + Meta.Id))) { } });
            await Sleep(TimeSpan.FromSeconds(8));
            await Step("after", async () => { using (await Http.PostAsync("{{naps.Url}}",
                new StringContent("after " + Meta.Id))) { } });
            return Meta.Resume;
            """, token: token);
        var sleepers = await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 10).Select(_ => ("nap", "{}")), token);
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "nap"),
            w => w["stats"]!["sleeping"]!.GetValue<int>() == sleepers.Count, TimeSpan.FromSeconds(30), "all asleep");

        var accepted = new ConcurrentBag<Guid>();
        var unavailable = 0;
        var otherStatuses = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await cluster.SendAsync(
                        HttpMethod.Post,
                        cluster.EmitUrl($"/v1/canvases/{canvas}/workers/rb/events"),
                        token,
                        """{"load":1}""");
                    var status = (int)response.StatusCode;
                    if (status == 202) accepted.Add(Guid.Parse(
                        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>()));
                    else if (status == 503 && response.Headers.RetryAfter is not null) Interlocked.Increment(
                        ref unavailable);
                    else otherStatuses.Add($"{status}: {await response.Content.ReadAsStringAsync()}");
                }
                catch (HttpRequestException e)
                {
                    otherStatuses.Add(e.Message);
                }
                await Task.Delay(10);
            }
        })).ToList();

        await cluster.EventuallyAsync(
            () => Task.FromResult(accepted.Count),
            c => c > 200,
            TimeSpan.FromSeconds(30),
            "load running");
        await Servers.RabbitMqAsync("stop_app");
        var before = accepted.Count;
        await cluster.EventuallyAsync(
            () => Task.FromResult(Volatile.Read(ref unavailable)),
            u => u > 20,
            TimeSpan.FromSeconds(30),
            "503s while the broker is down");
        await Servers.RabbitMqAsync("start_app");
        // The services recover on their own: emits are accepted again.
        await cluster.EventuallyAsync(
            () => Task.FromResult(accepted.Count),
            c => c > before + 200,
            TimeSpan.FromSeconds(90),
            "emits accepted after the restart");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Empty(otherStatuses);
        await WaitForAllAsync(
            accepted.ToList(),
            sink,
            TimeSpan.FromMinutes(3),
            "every accepted event processed after the restart");
        var row = Settle(
            "RabbitMQ stopped and started under emit load",
            accepted.ToList(),
            sink,
            0,
            $"{unavailable} emits answered 503 + Retry-After during the outage");
        Assert.Equal(0, row.Lost);

        var woke = await cluster.EventuallyAsync(() => Task.FromResult(naps.Calls.ToList()),
            calls => sleepers.All(id => calls.Contains($"after {id}")), TimeSpan.FromMinutes(1),
            "every sleeper awake and past its second step");
        var effects = sleepers.Sum(id => woke.Count(c => c == $"before {id}" || c == $"after {id}"));
        output.WriteLine(FaultReport.Durable.Add(
            "RabbitMQ stopped and started while 10 events sleep (a step before, one after)", "10", "20 (once each)",
            $"{effects}", "asleep in PostgreSQL through the outage; woke once it was back"));
        Assert.Equal(2 * sleepers.Count, effects);
    }
}
