using Dapper;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Workq.Client;

namespace Workq.Tests.Reliability;

/// <summary>
/// Issue 25, "Delete means gone, for good": a canvas (and, separately, a worker) is deleted with runs in flight,
/// delayed events due, crons ticking, a retry waiting in its delay queue, a redrive and flushes under way, and its name
/// is created again at once. The new one sees nothing of the old, over the API, in PostgreSQL and on the broker: right
/// away, and again once every one of those has finished (the old consumers closed, the retries landed, and the
/// dispatcher and worker past a marker of their own).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ResurrectionTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    /// <summary>Long enough that an old retry lands in the worker deployed again, not before it.</summary>
    private const int RetryBackoffSeconds = 5;

    // The old incarnation's handlers: each run says it started, then takes a while, and returns something only the old
    // tenant knew.
    private static string SlowCode(CallbackSink sink) => $$"""
        if (Event?["fail"] is not null) throw new InvalidOperationException("old failure");
        using (var started = await Http.PostAsync(
            "{{sink.Url}}", new StringContent("start:" + Meta.Id), CancellationToken)) { }
        await Task.Delay(1500, CancellationToken);
        if (Event?["child"] is null) await Emit(Meta.Worker, new { child = true });
        return new { secret = "old-tenant-secret" };
        """;

    // The new incarnation's: any run at all is something of the old reaching it.
    private static string NewCode(CallbackSink sink) => $$"""
        using (var ran = await Http.PostAsync(
            "{{sink.Url}}", new StringContent("new:" + Meta.Worker + ":" + Meta.Id), CancellationToken)) { }
        return 1;
        """;

    [Fact]
    public async Task A_canvas_deleted_with_everything_under_way_and_created_again_at_once_sees_nothing_of_the_old()
    {
        await cluster.UseOneWorkerInstanceAsync();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, oldToken) = await cluster.CreateCanvasAsync("res");
        await PutAsync(canvas, "slow", SlowCode(sink), """{"concurrency": 8}""");
        await PutAsync(
            canvas,
            "flaky",
            SlowCode(sink),
            $$$"""{"retry": {"maxAttempts": 3, "backoffSeconds": [{{{RetryBackoffSeconds}}}]}}""");
        await PutAsync(canvas, "fail", SlowCode(sink), """{"retry": {"maxAttempts": 1, "backoffSeconds": []}}""");

        // What the old canvas leaves: dead letters to redrive, a parked event, an idempotency key, ordering lanes,
        // crons.
        var old = new List<Guid>();
        old.AddRange(await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 40).Select(_ => ("fail", """{"fail": true}""")),
            oldToken));
        old.Add(await cluster.EmitAsync(canvas, "ghost", "{}", oldToken));
        var keyed = await EmitAsync(canvas, oldToken, "slow", "{}", idempotencyKey: "k1", query: "?orderingKey=o");
        old.Add(keyed);
        for (
            var i = 0;
            i < 3;
            i++) await cluster.JsonAsync(
                HttpMethod.Put,
                cluster.ControlUrl($"/v1/canvases/{canvas}/crons/tick{i}"),
                oldToken,
                """{"schedule": "* * * * *", "worker": "slow", "event": {"from": "cron"}}""",
                expect: 201);
        await cluster.EventuallyAsync(
            () => DeadLettersAsync(canvas, "fail"),
            d => d.Count == 40,
            Patience,
            "40 dead letters to redrive");
        await cluster.EventuallyAsync(
            () => QueueNamesAsync(canvas),
            q => q.Contains($"workq.worker.{canvas}.slow.lane0"),
            Patience,
            "the ordering lanes of slow");

        // Under way at the delete: runs, retries waiting in their delay queue, delayed events, ticking crons, a
        // redrive, flushes.
        var before = Started(sink);
        old.AddRange(
            await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 8).Select(_ => ("slow", "{}")), oldToken));
        old.AddRange(await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 3).Select(_ => ("flaky", """{"fail": true}""")),
            oldToken));
        await cluster.EventuallyAsync(
            () => Task.FromResult(Started(sink) - before),
            n => n >= 4,
            Patience,
            "runs in flight");
        await cluster.EventuallyAsync(
            () => ReadyAsync(Delay),
            n => n >= 3,
            Patience,
            "the retries waiting in their delay queue");
        old.AddRange(await DelayedAsync(canvas, oldToken, "slow", 10));
        await ArmCronsAsync(canvas);
        var logFrom = new FileInfo(Worker.LogPath).Length;
        var redrive = cluster.SendAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/fail/dead-letters/redrive"),
            cluster.AdminToken);
        var started = Started(sink) - before;
        var clock = Stopwatch.StartNew();

        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}"),
            cluster.AdminToken,
            expect: 204);
        var deleted = clock.Elapsed;
        var created = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl("/v1/canvases"),
            cluster.AdminToken,
            $$"""{"name":"{{canvas}}"}""",
            expect: 201);
        var token = created.As<CreatedCanvas>().Token;
        Assert.NotEqual(oldToken, token);
        int redriveStatus;
        using (var redriven = await redrive) redriveStatus = (int)redriven.StatusCode;
        Assert.True(redriveStatus is 200 or 404, $"the redrive answered {redriveStatus}");
        foreach (var worker in new[] {
            "flaky",
            "slow",
            "fail" }) await PutAsync(canvas, worker, NewCode(sink), "{}", token);

        // The old token opens nothing; right away, the new canvas has nothing of the old.
        using (var refused = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/slow/events"),
            oldToken,
            "{}"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await AssertNothingOfTheOldAsync(canvas, token, ["slow", "flaky", "fail"], old, sink);

        // Then every old thing finishes: the old consumers close, the retries land in the new flaky's queue and are
        // dropped, and the worker's and the dispatcher's flushes go past a marker of another canvas.
        foreach (var worker in new[] {
            "slow",
            "flaky",
            "fail" }) await LoggedAsync(logFrom, $"Stopped consuming {canvas}/{worker}");
        await cluster.EventuallyAsync(
            () => ReadyAsync(Delay),
            n => n == 0,
            Patience,
            "the old retries out of their delay queue");
        await LoggedAsync(logFrom, $"of {canvas}/flaky: {DroppedLine}", times: 3);
        await BarrierAsync(sink);
        await AssertNothingOfTheOldAsync(canvas, token, ["slow", "flaky", "fail"], old, sink);
        await ReportAsync("canvas deleted and created again at once",
            $"8 slow runs, each emitting a child ({started} runs started), 3 retries in their delay queue, "
            + $"10 delayed events due, 3 crons ticking, a redrive of 40 (answered {redriveStatus})",
            canvas,
            worker: null,
            logFrom,
            $"DELETE answered in {deleted.TotalMilliseconds:0} ms; everything old finished "
            + $"{clock.Elapsed.TotalSeconds:0.0} s after it; the old token answered 401");
        // The old idempotency key is not the new canvas's: the same key enqueues a new event.
        Assert.NotEqual(keyed, await EmitAsync(canvas, token, "slow", "{}", idempotencyKey: "k1"));
    }

    [Fact]
    public async Task A_worker_deleted_with_everything_under_way_and_deployed_again_at_once_sees_nothing_of_the_old()
    {
        await cluster.UseOneWorkerInstanceAsync();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("resw");
        await PutAsync(
            canvas,
            "w",
            SlowCode(sink),
            """{"concurrency": 8, "retry": {"maxAttempts": 1, "backoffSeconds": []}}""",
            token);
        await PutAsync(canvas, "keep", "return 7;", "{}", token);
        var kept = await cluster.EmitAsync(canvas, "keep", "{}", token);
        await cluster.TraceOfAsync(canvas, "keep", kept, Patience);

        var old = new List<Guid>();
        old.AddRange(await cluster.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 30).Select(_ => ("w", """{"fail": true}""")),
            token));
        old.Add(await EmitAsync(canvas, token, "w", "{}", query: "?orderingKey=o"));
        await cluster.EventuallyAsync(
            () => DeadLettersAsync(canvas, "w"),
            d => d.Count == 30,
            Patience,
            "30 dead letters to redrive");
        await cluster.EventuallyAsync(
            () => QueueNamesAsync(canvas),
            q => q.Contains($"workq.worker.{canvas}.w.lane0"),
            Patience,
            "the ordering lanes of w");
        await cluster.JsonAsync(HttpMethod.Patch, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w"), token,
            $$$"""{"retry": {"maxAttempts": 3, "backoffSeconds": [{{{RetryBackoffSeconds}}}]}}""");

        var before = Started(sink);
        old.AddRange(await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 8).Select(_ => ("w", "{}")), token));
        old.AddRange(
            await cluster.EmitBatchAsync(
                canvas,
                Enumerable.Range(0, 3).Select(_ => ("w", """{"fail": true}""")),
                token));
        await cluster.EventuallyAsync(
            () => Task.FromResult(Started(sink) - before),
            n => n >= 4,
            Patience,
            "runs in flight");
        await cluster.EventuallyAsync(
            () => ReadyAsync(Delay),
            n => n >= 3,
            Patience,
            "the retries waiting in their delay queue");
        old.AddRange(await DelayedAsync(canvas, token, "w", 10));
        var logFrom = new FileInfo(Worker.LogPath).Length;
        var redrive = cluster.SendAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters/redrive"),
            token);
        var started = Started(sink) - before;
        var clock = Stopwatch.StartNew();

        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w"),
            token,
            expect: 204);
        var deleted = clock.Elapsed;
        await PutAsync(canvas, "w", NewCode(sink), "{}", token, expect: 201);
        int redriveStatus;
        using (var redriven = await redrive) redriveStatus = (int)redriven.StatusCode;
        Assert.True(redriveStatus is 200 or 404, $"the redrive answered {redriveStatus}");

        await AssertNothingOfTheOldWorkerAsync(canvas, token, old, sink);
        await LoggedAsync(logFrom, $"Stopped consuming {canvas}/w");
        await cluster.EventuallyAsync(
            () => ReadyAsync(Delay),
            n => n == 0,
            Patience,
            "the old retries out of their delay queue");
        await LoggedAsync(logFrom, $"of {canvas}/w: {DroppedLine}", times: 3);
        await BarrierAsync(sink);
        await AssertNothingOfTheOldWorkerAsync(canvas, token, old, sink);
        await ReportAsync("worker deleted and deployed again at once",
            $"8 slow runs, each emitting a child ({started} runs started), 3 retries in their delay queue, "
            + $"10 delayed events due, a redrive of 30 (answered {redriveStatus})",
            canvas,
            "w",
            logFrom,
            $"DELETE answered in {deleted.TotalMilliseconds:0} ms; everything old finished "
            + $"{clock.Elapsed.TotalSeconds:0.0} s after it; its sibling untouched");
        // Its sibling kept what it had.
        Assert.Contains(
            await cluster.GetTracesAsync(canvas, "keep"),
            t => t.EventId == kept);
    }

    private static string Delay => $"workq.delay.{RetryBackoffSeconds}s";

    /// <summary>
    /// The suite's row (FaultReport.Resurrection): what of the old reached the new one, counted where the assertions
    /// looked.
    /// </summary>
    private async Task ReportAsync(
        string scenario,
        string underWay,
        string canvas,
        string? worker,
        long logFrom,
        string notes)
    {
        var rows = await RowsAsync(canvas, worker);
        var oldRows = worker is null
            ? rows.Values.Sum()
            : rows["traces"] + rows["dead_letters"] + rows["metrics_minute"] + rows["scheduled_events"];
        output.WriteLine(FaultReport.Resurrection
            .Add(scenario, underWay, $"{oldRows}", "0", "0", $"{Logged(logFrom, DroppedLine)}", notes));
    }

    private const string DroppedLine = "it belongs to a deleted incarnation";

    /// <summary>The one live worker instance (<see cref="WorkqCluster.UseOneWorkerInstanceAsync"/>).</summary>
    private ServiceProcess Worker => cluster.Workers.Single(w => !w.HasExited);

    private async Task AssertNothingOfTheOldAsync(
        string canvas,
        string token,
        string[] workers,
        IReadOnlyList<Guid> old,
        CallbackSink sink)
    {
        foreach (var worker in workers)
        {
            Assert.Empty(await cluster.TracesAsync(canvas, worker));
            Assert.Empty(await DeadLettersAsync(canvas, worker, token));
            var view = await cluster.WorkerAsync(canvas, worker);
            Assert.Equal(
                (0, 0, 0, 0),
                (Stat(view, "processed"), Stat(view, "failed"), Stat(view, "deadLettered"), Stat(view, "scheduled")));
        }
        Assert.Empty((await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled"),
            token))!.AsArray());
        Assert.Empty((await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/crons"),
            token))!.AsArray());
        Assert.All(
            await MetricsAsync($"/v1/canvases/{canvas}/metrics", token),
            p => Assert.Equal((0L, 0L, 0L), (p.Processed, p.DeadLettered, p.Emitted)));
        foreach (var id in old) await AssertUnknownAsync(canvas, token, id);

        var left = await RowsAsync(canvas, worker: null);
        Assert.All(
            left,
            table => Assert.True(table.Value == 0, $"{table.Value} row(s) of the old canvas in {table.Key}"));
        Assert.Equal(
            workers.Select(w => $"workq.worker.{canvas}.{w}").Order(),
            (await QueueNamesAsync(canvas)).Order());
        Assert.DoesNotContain(sink.Calls, c => c.StartsWith("new:", StringComparison.Ordinal));
    }

    private async Task AssertNothingOfTheOldWorkerAsync(
        string canvas,
        string token,
        IReadOnlyList<Guid> old,
        CallbackSink sink)
    {
        Assert.Empty(await cluster.TracesAsync(canvas, "w"));
        Assert.Empty(await DeadLettersAsync(canvas, "w", token));
        var view = await cluster.WorkerAsync(canvas, "w");
        Assert.Equal(
            (0, 0, 0, 0),
            (Stat(view, "processed"), Stat(view, "failed"), Stat(view, "deadLettered"), Stat(view, "scheduled")));
        Assert.All(
            await MetricsAsync($"/v1/canvases/{canvas}/workers/w/metrics", token),
            p => Assert.Equal((0L, 0L), (p.Processed, p.DeadLettered)));
        // Event statuses are the canvas's (kept, by id, until they expire); a lookup finds no trace or dead letter of
        // the old worker.
        foreach (var id in old.Take(5))
        {
            var found = (await cluster.JsonAsync(
                HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/lookup/{id}"),
                token)).As<EventLookup>().Found;
            Assert.DoesNotContain(found, f => f.Where is "trace" or "deadLetter");
        }

        var left = await RowsAsync(canvas, "w");
        foreach (var table in new[] { "traces", "dead_letters", "metrics_minute", "metrics_hour", "scheduled_events" })
            Assert.True(left[table] == 0, $"{left[table]} row(s) of the old worker in {table}");
        Assert.Equal(
            new[] { $"workq.worker.{canvas}.keep", $"workq.worker.{canvas}.w" },
            (await QueueNamesAsync(canvas)).Order());
        Assert.DoesNotContain(sink.Calls, c => c.StartsWith("new:", StringComparison.Ordinal));
    }

    private static int Started(CallbackSink sink)
        => sink.Calls.Count(c => c.StartsWith("start:", StringComparison.Ordinal));

    private static int Stat(JsonNode worker, string name) => worker["stats"]![name]!.GetValue<int>();

    /// <summary>An id of the old canvas asked on the new one: unknown, as an id that never was.</summary>
    private async Task AssertUnknownAsync(string canvas, string token, Guid id)
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}"),
            token);
        Assert.True(
            response.StatusCode == HttpStatusCode.NotFound,
            $"event {id} of the old canvas answered {(int)response.StatusCode}: "
            + await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Markers in a canvas of their own: a run that is dead-lettered and an event parked as unhandled. Once their
    /// trace, status, dead letter and parked copy are readable, the worker's flushes and the dispatcher's dead-letter
    /// and unhandled queues have gone past everything the old canvas left in them.
    /// </summary>
    private async Task BarrierAsync(CallbackSink sink)
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("mark");
        await PutAsync(
            canvas,
            "mark",
            SlowCode(sink),
            """{"retry": {"maxAttempts": 1, "backoffSeconds": []}}""",
            token);
        var marker = await cluster.EmitAsync(canvas, "mark", """{"fail": true}""", token);
        await cluster.EmitAsync(canvas, "ghost", "{}", token);
        await cluster.TraceOfAsync(canvas, "mark", marker, Patience);
        await cluster.EventuallyAsync(
            () => DeadLettersAsync(canvas, "mark", token),
            d => d.Count == 1,
            Patience,
            "the marker's dead letter");
        await cluster.EventuallyAsync(
            () => cluster.JsonAsync(
                HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/events/{marker}"),
                token),
            s => s.As<EventStatus>().Status == "deadLettered",
            Patience,
            "the marker's status");
        await cluster.EventuallyAsync(
            () => cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled"), token),
            u => u!.AsArray().Count == 1,
            Patience,
            "the parked marker");
    }

    private Task PutAsync(
        string canvas,
        string worker,
        string code,
        string settings,
        string? token = null,
        int? expect = null)
    {
        var body = JsonNode.Parse(settings)!.AsObject();
        body["code"] = code;
        return expect is { } status
            ? cluster.JsonAsync(
                HttpMethod.Put,
                cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"),
                token ?? cluster.AdminToken,
                body.ToJsonString(),
                status)
            : PutAnyAsync(canvas, worker, body.ToJsonString(), token);
    }

    private async Task PutAnyAsync(string canvas, string worker, string body, string? token)
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Put,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"),
            token ?? cluster.AdminToken,
            body);
        Assert.True(
            response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK,
            $"deploying {canvas}/{worker}: {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<Guid> EmitAsync(
        string canvas,
        string token,
        string worker,
        string eventJson,
        string? idempotencyKey = null,
        string query = "")
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/{worker}/events{query}"),
            token,
            eventJson,
            idempotencyKey);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return text.As<EmitAccepted>().Id;
    }

    /// <summary>
    /// Delayed events due within the next second or two: due while the delete runs, or just after it.
    /// </summary>
    private async Task<IReadOnlyList<Guid>> DelayedAsync(string canvas, string token, string worker, int count)
    {
        var body = "[" + string.Join(",", Enumerable.Range(0, count)
            .Select(i => $$"""{"worker":"{{worker}}","event":{},"delaySeconds":{{0.2 + i * 0.15:0.00}}}""")) + "]";
        var accepted = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/events"),
            token,
            body,
            expect: 202);
        return accepted.As<AcceptedIds>().Ids.ToList();
    }

    private async Task<IReadOnlyList<MetricsPoint>> MetricsAsync(string path, string token) =>
        (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl(path), token)).As<MetricsAnswer>().Points;

    private async Task<IReadOnlyList<JsonNode?>> DeadLettersAsync(string canvas, string worker, string? token = null) =>
        (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}/dead-letters?limit=1000"),
            token ?? cluster.AdminToken))!
            .AsArray().ToList();

    private NpgsqlConnection Connect() => new(
        new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin) { Database = cluster.Database }.ConnectionString);

    /// <summary>The crons fire on the dispatcher's next pass, within a second: about when the delete runs.</summary>
    private async Task ArmCronsAsync(string canvas)
    {
        await using var db = Connect();
        await db.ExecuteAsync(
            "update crons set next_run = now() - interval '1 minute' where canvas = @canvas",
            new { canvas });
    }

    /// <summary>
    /// Rows per tenant table of the canvas (or of one worker of it), straight from PostgreSQL; the registry's own
    /// tables left out.
    /// </summary>
    private async Task<Dictionary<string, long>> RowsAsync(string canvas, string? worker)
    {
        await using var db = Connect();
        var tables = await db.QueryAsync<(string Table, bool HasWorker)>("""
            select c.table_name, exists (select 1 from information_schema.columns w
                                          where w.table_schema = c.table_schema and w.table_name = c.table_name
                                               and w.column_name = 'worker')
              from information_schema.columns c
             where c.table_schema = current_schema() and c.column_name = 'canvas'
                  and c.table_name not in ('workers', 'worker_assemblies', 'applied_changes')
            """);
        var rows = new Dictionary<string, long>();
        foreach (var (table, hasWorker) in tables)
        {
            if (worker is not null && !hasWorker) continue;
            rows[table] = await db.ExecuteScalarAsync<long>(
                $"select count(*) from {table} where canvas = @canvas" + (worker is null
                    ? ""
                    : " and worker = @worker"),
                new { canvas, worker });
        }
        return rows;
    }

    private async Task<IReadOnlyList<string>> QueueNamesAsync(string canvas) =>
        (await cluster.Rabbit.QueuesAsync(cluster.VirtualHost)).Where(
            q => q.StartsWith($"workq.worker.{canvas}.", StringComparison.Ordinal)).ToList();

    /// <summary>The ready messages of a queue, as the broker counts them now (0 when it does not exist).</summary>
    private async Task<uint> ReadyAsync(string queue)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(cluster.ServiceEnvironment["WORKQ_RABBITMQ_URL"].Split(',')[0])
        };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    /// <summary>
    /// Until the worker instance's log, from <paramref name="from"/> on, holds the text at least so many times.
    /// </summary>
    private Task LoggedAsync(long from, string text, int times = 1) =>
        cluster.EventuallyAsync(
            () => Task.FromResult(Logged(from, text)),
            count => count >= times,
            Patience,
            $"'{text}' {times} time(s) in the worker's log");

    /// <summary>How often the text is in the worker instance's log from <paramref name="from"/> on.</summary>
    private int Logged(long from, string text)
    {
        using var log = new FileStream(
            Worker.LogPath,
            FileMode.Open,
            FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete);
        log.Seek(from, SeekOrigin.Begin);
        using var reader = new StreamReader(log);
        var content = reader.ReadToEnd();
        var count = 0;
        for (
            var at = content.IndexOf(text, StringComparison.Ordinal);
            at >= 0;
            at = content.IndexOf(text, at + text.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
