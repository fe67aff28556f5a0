using Dapper;
using Npgsql;
using RabbitMQ.Client;
using Workq.Client;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using DeadLetter = Workq.Client.DeadLetter;

namespace Workq.Tests.Reliability;

/// <summary>
/// The poison suite (issue 25): malformed and unprocessable messages published with the broker's admin user straight
/// into every internal queue (the dead letters, the unhandled queue, each service's control-plane queue, a worker's
/// queue), and poison rows for the scheduled pump and the cron firer. Each ends in the quarantine within seconds, the
/// dispatcher's CPU goes back to idle, its log grows by a few lines per message at most, and the next good message
/// flows.
/// </summary>
[Trait("Category", "Poison")]
public sealed class PoisonTests(WorkqCluster cluster, ITestOutputHelper output) :
    IClassFixture<WorkqCluster>,
    IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);
    /// <summary>A quarantined message logs one line; the broker client and MassTransit may add one or two.</summary>
    private const int LinesPerMessage = 3, LineSlack = 10;
    private const string Marker = "poison-marker";
    private static readonly byte[] TenMegabytes = Encoding.UTF8
        .GetBytes("\"" + new string('a', 10 * 1024 * 1024) + "\"");

    private IConnection connection = null!;
    private IChannel channel = null!;

    public async Task InitializeAsync()
    {
        var factory = new ConnectionFactory { Uri = new Uri(cluster.ServiceEnvironment["WORKQ_RABBITMQ_URL"]) };
        connection = await factory.CreateConnectionAsync();
        channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true,
            publisherConfirmationTrackingEnabled: true));
    }

    public async Task DisposeAsync()
    {
        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }

    /// <summary>
    /// One message to publish: its properties (with its marker added) and body, and whether it must end in the
    /// quarantine.
    /// </summary>
    private sealed record Poison(string What, BasicProperties Properties, byte[] Body, bool Always = true)
    {
        public string Marker { get; } = Guid.NewGuid().ToString("N");
    }

    private static BasicProperties Event(
        string canvas,
        string worker,
        Guid? id = null,
        Action<IDictionary<string, object?>>? change = null)
    {
        var properties = EventHeaders.Create(
            new EventEnvelope(id ?? Guid.CreateVersion7(), canvas, worker, DateTimeOffset.UtcNow, 0, null));
        change?.Invoke(properties.Headers!);
        return properties;
    }

    /// <summary>
    /// The malformed and unprocessable messages of an event queue (the dead letters, the unhandled queue).
    /// </summary>
    private static List<Poison> EventPoisons(string canvas, string worker) =>
    [
        new("bad JSON", Event(canvas, worker), """{"n": """u8.ToArray()),
        new("no headers at all", new BasicProperties(), """{"n": 1}"""u8.ToArray()),
        new("wrong types", Event(
            canvas,
            worker,
            change: h => (h[EventHeaders.EnqueuedAt], h[EventHeaders.Depth]) = ("yesterday"u8.ToArray(), true)),
            "1"u8.ToArray()),
        new(
            "a table for a canvas",
            Event(canvas, worker, change: h => h[EventHeaders.Canvas] = new Dictionary<string, object?> { ["a"] = 1 }),
            "1"u8.ToArray()),
        new(
            "NUL in the canvas",
            Event(canvas, worker, change: h => h[EventHeaders.Canvas] = Encoding.UTF8.GetBytes(canvas + "\0")),
            "1"u8.ToArray()),
        new(
            "NUL in the worker",
            Event(canvas, worker, change: h => h[EventHeaders.Worker] = Encoding.UTF8.GetBytes("w\0")),
            "1"u8.ToArray()),
        new(
            "NUL in the message id",
            new BasicProperties(Event(canvas, worker)) { MessageId = Guid.NewGuid() + "\0" },
            "1"u8.ToArray()),
        new("NUL in the body", Event(canvas, worker), "{\"a\": \"x\0\"}"u8.ToArray()),
        new("a 10 MB body", Event(canvas, worker), TenMegabytes),
        // Text a store may keep (PostgreSQL text cannot hold NUL; the stores may clean it): quarantined, or kept where
        // it belongs.
        new(
            "NUL in the trace parent",
            Event(canvas, worker, change: h => h[EventHeaders.TraceParent] = "00-\0"u8.ToArray()),
            "1"u8.ToArray(),
            Always: false),
        new(
            "NUL in the ordering key",
            Event(canvas, worker, change: h => h[EventHeaders.OrderingKey] = "k\0"u8.ToArray()),
            "1"u8.ToArray(),
            Always: false),
        new(
            "NUL in the reason",
            Event(canvas, worker, change: h => h[EventHeaders.DeadLetterReason] = "dead\0letter"u8.ToArray()),
            "1"u8.ToArray(),
            Always: false),
    ];

    private async Task PublishAsync(string exchange, string routingKey, Poison poison)
    {
        poison.Properties.Headers ??= new Dictionary<string, object?>();
        poison.Properties.Headers[Marker] = Encoding.UTF8.GetBytes(poison.Marker);
        await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, poison.Properties, poison.Body);
    }

    private async Task<List<QuarantineItem>> QuarantineAsync(string query = "") =>
        (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/quarantine?limit=1000{query}"),
            cluster.AdminToken)).As<List<QuarantineItem>>();

    private async Task<List<DeadLetter>> DeadLettersAsync(string canvas, string token) =>
        (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters"),
            token)).As<List<DeadLetter>>();

    private static QuarantineItem? Find(IEnumerable<QuarantineItem> items, Poison poison) =>
        items.FirstOrDefault(i => i.Header(Marker) == poison.Marker);

    /// <summary>
    /// Waits until every poison that must be quarantined is (from <paramref name="source"/>), and returns the items.
    /// </summary>
    private async Task<List<QuarantineItem>> QuarantinedAsync(IReadOnlyList<Poison> poisons, string source)
    {
        var must = poisons.Where(p => p.Always).ToList();
        var watch = Stopwatch.StartNew();
        var items = await cluster.EventuallyAsync(
            () => QuarantineAsync($"&source={Uri.EscapeDataString(source)}"),
            i => must.All(p => Find(i, p) is not null),
            Within,
            $"{string.Join(", ", must.Where(p => true).Select(p => p.What))} quarantined from {source}");
        foreach (var poison in must)
        {
            var item = Find(items, poison)!;
            Assert.False(string.IsNullOrWhiteSpace(item.Error), poison.What);
            Assert.True(item.Attempts is >= 1 and <= 3, $"{poison.What}: {item}");
        }
        output.WriteLine($"{must.Count} messages quarantined from {source} within {watch.Elapsed.TotalSeconds:0.0} s");
        return items;
    }

    /// <summary>The lines of a service's log so far (it is being written while read).</summary>
    private static int LogLines(ServiceProcess service)
    {
        using var stream = new FileStream(
            service.LogPath,
            FileMode.Open,
            FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = 0;
        while (reader.ReadLine() is not null) lines++;
        return lines;
    }

    private void AssertLogGrewLittle(ServiceProcess service, int before, int messages)
    {
        var grown = LogLines(service) - before;
        output.WriteLine($"{service.Name}'s log: +{grown} lines for {messages} messages");
        Assert.True(grown <= LinesPerMessage * messages + LineSlack,
            $"{service.Name}'s log grew by {grown} lines for {messages} poison messages:\n{service.Tail(40)}");
    }

    /// <summary>
    /// Nothing loops: within ten seconds the dispatcher is back to idle, under a tenth of a core over two seconds (the
    /// incident's loop took half a core for good).
    /// </summary>
    private async Task AssertDispatcherIdleAsync()
    {
        var pid = cluster.Dispatcher.Id;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var window = TimeSpan.FromSeconds(2);
        while (true)
        {
            var before = ProcessSample.Of(pid).Cpu;
            var watch = Stopwatch.StartNew();
            await cluster.EventuallyAsync(
                () => Task.FromResult(watch.Elapsed),
                e => e >= window,
                window * 2,
                "a sampling window");
            var used = ProcessSample.Of(pid).Cpu - before;
            var share = used.TotalMilliseconds / watch.Elapsed.TotalMilliseconds;
            output.WriteLine($"dispatcher CPU: {share:P1} of a core over {watch.Elapsed.TotalSeconds:0.0} s");
            if (used.TotalSeconds < 0.1 * watch.Elapsed.TotalSeconds) return;
            Assert.True(DateTime.UtcNow < deadline,
                $"the dispatcher still used {used.TotalMilliseconds:0} ms of CPU"
                + $" in {watch.Elapsed.TotalMilliseconds:0} ms");
        }
    }

    private async Task<string?> StatusAsync(string canvas, Guid id)
    {
        using var response = await cluster.SendAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}"),
            cluster.AdminToken);
        return response.IsSuccessStatusCode
            ? (await response.Content.ReadAsStringAsync()).As<EventStatus>().Status
            : null;
    }

    private async Task<uint> ReadyAsync(string queue) => (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    [Fact]
    public async Task Poison_on_the_dead_letter_queue_is_quarantined_and_the_next_dead_letter_is_kept()
    {
        var (canvas, _) = await cluster.CreateCanvasAsync("dlq");
        await cluster.DeployAsync(canvas, "w", "return null;");
        var poisons = EventPoisons(canvas, "w");
        var lines = LogLines(cluster.Dispatcher);

        foreach (var poison in poisons) await PublishAsync("", Topology.DeadLetterQueue, poison);

        var items = await QuarantinedAsync(poisons, Topology.DeadLetterQueue);
        // Those a store may keep are kept somewhere visible: in the quarantine or in the dead letters.
        await cluster.EventuallyAsync(
            async () => (Quarantined: await QuarantineAsync($"&canvas={canvas}"),
                Listed: await DeadLettersAsync(canvas, cluster.AdminToken)),
            seen => poisons.Where(p => !p.Always).All(p => Find(seen.Quarantined, p) is not null
                || seen.Listed.Any(d => d.Id.ToString() == p.Properties.MessageId)),
            Within, "each NUL-bearing dead letter kept or quarantined");
        await AssertDispatcherIdleAsync();
        AssertLogGrewLittle(cluster.Dispatcher, lines, poisons.Count);
        Assert.Equal(0u, await ReadyAsync(Topology.DeadLetterQueue));

        // An event that names itself is quarantined in its status, with where to find it.
        var badJson = poisons[0];
        var item = Find(items, badJson)!;
        Assert.Equal((canvas, "w", "publish"), (item.Canvas, item.Worker, item.Redrive));
        Assert.Equal("quarantined", await cluster.EventuallyAsync(
            () => StatusAsync(canvas, Guid.Parse(badJson.Properties.MessageId!)),
            s =>
                s == "quarantined",
            Within,
            "the bad-JSON event's status"));
        var tenMegabytes = Find(items, poisons.Single(p => p.What == "a 10 MB body"))!;
        Assert.Equal(TenMegabytes.Length, tenMegabytes.BodyBytes);
        Assert.Contains("WORKQ_MAX_EVENT_BYTES", tenMegabytes.Error);

        var reasoned = Event(canvas, "w", change: h => h[EventHeaders.DeadLetterReason] = "gave up"u8.ToArray());
        var good = new Poison("good", reasoned, """{"n": 1}"""u8.ToArray(), Always: false);
        await PublishAsync(Topology.DeadLetterExchange, "w", good);
        await cluster.EventuallyAsync(
            () => DeadLettersAsync(canvas, cluster.AdminToken),
            l => l.Any(d => d.Id.ToString() == good.Properties.MessageId),
            Within,
            "the good dead letter listed");
    }

    [Fact]
    public async Task Poison_on_the_unhandled_queue_is_quarantined_and_the_next_emit_to_a_missing_worker_is_parked()
    {
        var (canvas, _) = await cluster.CreateCanvasAsync("unh");
        var poisons = EventPoisons(canvas, "missing").Where(p => p.What != "NUL in the reason").ToList();
        var lines = LogLines(cluster.Dispatcher);

        foreach (var poison in poisons) await PublishAsync("", Topology.UnhandledQueue, poison);

        var items = await QuarantinedAsync(poisons, Topology.UnhandledQueue);
        await AssertDispatcherIdleAsync();
        AssertLogGrewLittle(cluster.Dispatcher, lines, poisons.Count);
        Assert.Equal(0u, await ReadyAsync(Topology.UnhandledQueue));
        Assert.Equal("quarantined", await cluster.EventuallyAsync(
            () => StatusAsync(canvas, Guid.Parse(poisons[0].Properties.MessageId!)),
            s =>
                s == "quarantined",
            Within,
            "the bad-JSON event's status"));
        Assert.NotNull(Find(items, poisons[0]));

        await cluster.EmitAsync(canvas, "later", """{"n": 2}""");
        await cluster.EventuallyAsync(
            async () => (await cluster.JsonAsync(
                HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled"),
                cluster.AdminToken)).As<List<Unhandled>>(),
            l => l.Any(u => u.Worker == "later"),
            Within,
            "the good event parked");
    }

    [Fact]
    public async Task Poison_on_every_services_control_plane_queue_is_quarantined_and_the_control_plane_still_works()
    {
        // Each service instance hears the control plane on a temporary queue of its own (MassTransit's, named after the
        // host).
        var queues = (await cluster.Rabbit.QueuesAsync(cluster.VirtualHost))
            .Where(q => !q.StartsWith("workq.", StringComparison.Ordinal)
                && !q.EndsWith("_error", StringComparison.Ordinal)
                && !q.EndsWith("_skipped", StringComparison.Ordinal))
            .ToList();
        Assert.True(queues.Count >= 4, $"control-plane queues: {string.Join(", ", queues)}");
        var services = cluster.Workers.Where(w => !w.HasExited).Append(cluster.Dispatcher).Append(cluster.Emitter)
            .Append(cluster.Control)
            .ToList();
        var lines = services.ToDictionary(s => s, LogLines);
        var poisons = new List<(string Queue, Poison Poison)>();
        foreach (var queue in queues)
        {
            var masstransit = new BasicProperties
            {
                ContentType = "application/vnd.masstransit+json",
                MessageId = Guid.NewGuid().ToString()
            };
            poisons.AddRange(new Poison[]
            {
                new(
                    "bad JSON",
                    new BasicProperties(masstransit),
                    """{"messageType": ["urn:message:Workq"""u8.ToArray()),
                new("no content type, bytes", new BasicProperties(), [0xff, 0x00, 0xfe, 0x01]),
                new("a type no one consumes", new BasicProperties(masstransit),
                    """
                    {"messageId": "00000000-0000-0000-0000-000000000001",
                     "messageType": ["urn:message:Nobody:Nothing"], "message": {}}
                    """u8.ToArray()),
                new("wrong types", new BasicProperties(masstransit),
                    """
                    {"messageType": ["urn:message:Workq.Shared.ControlPlane:WorkerChanged"],
                     "message": {"canvas": [1], "worker": {"x": 2}}}
                    """u8.ToArray()),
                new("a 10 MB body", new BasicProperties(masstransit), TenMegabytes),
            }.Select(p => (queue, p)));
        }

        foreach (var (queue, poison) in poisons) await PublishAsync("", queue, poison);

        var items = await cluster.EventuallyAsync(
            () => QuarantineAsync("&source=control-plane"),
            i => poisons.All(p => Find(i, p.Poison) is not null),
            Within,
            "every control-plane poison quarantined");
        foreach (var (queue, poison) in poisons) Assert.Equal(queue, Find(items, poison)!.Queue);
        // Once each: a message MassTransit cannot read is not also taken as one no consumer took.
        foreach (var queue in queues) Assert.Equal(
            poisons.Count(p => p.Queue == queue),
            items.Count(i => i.Queue == queue));
        await AssertDispatcherIdleAsync();
        foreach (var service in services) AssertLogGrewLittle(service, lines[service], poisons.Count / queues.Count);

        // Deploying needs the control plane (WorkerChanged to the worker instances): a new worker runs its first event.
        var (canvas, token) = await cluster.CreateCanvasAsync("cp");
        await cluster.DeployAsync(canvas, "after", "return 7;", token: token);
        var id = await cluster.EmitAsync(canvas, "after", "1", token);
        await cluster.TraceOfAsync(canvas, "after", id, Within);
    }

    [Fact]
    public async Task A_delivery_on_a_worker_queue_that_is_no_event_is_not_run_and_ends_in_the_quarantine()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("wq");
        await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
        var garbage = new Poison("no id, garbage headers", new BasicProperties
        {
            Headers = new Dictionary<string, object?>
            {
                [EventHeaders.Depth] = "deep"u8.ToArray(),
                [EventHeaders.EnqueuedAt] = true
            },
        }, "not json\0"u8.ToArray());
        var lines = LogLines(cluster.Dispatcher);

        await PublishAsync("", Topology.WorkerQueue(canvas, "w"), garbage);

        var items = await QuarantinedAsync([garbage], Topology.DeadLetterQueue);
        Assert.Contains(
            "not an event",
            Find(items, garbage)!.Header(EventHeaders.DeadLetterReason));
        await AssertDispatcherIdleAsync();
        AssertLogGrewLittle(cluster.Dispatcher, lines, 1);

        var id = await cluster.EmitAsync(canvas, "w", "2", token);
        await cluster.TraceOfAsync(canvas, "w", id, Within);
        // It was never run: the worker's only trace is the good event's.
        Assert.Single(await cluster.TracesAsync(canvas, "w"));
    }

    [Fact]
    public async Task A_scheduled_event_of_a_canvas_that_is_gone_is_quarantined_and_redriven_once_the_canvas_exists()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("sch");
        await cluster.DeployAsync(canvas, "w", "return 3;", token: token);
        var gone = "gone-" + Guid.NewGuid().ToString("N")[..10];
        var id = Guid.CreateVersion7();
        var lines = LogLines(cluster.Dispatcher);
        await using (var db = new NpgsqlConnection(cluster.ServiceEnvironment["WORKQ_POSTGRES"]))
        {
            await db.ExecuteAsync("""
                insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, body)
                values (@id, @gone, 'w', now(), now(), 0, '{"n": 1}'::bytea)
                """, new { id, gone });
        }

        var item = (await cluster.EventuallyAsync(
            () => QuarantineAsync("&source=scheduled-events"),
            i => i.Any(x => x.EventId == id),
            Within,
            "the scheduled event quarantined")).Single(x => x.EventId == id);
        Assert.Equal((gone, "emit"), (item.Canvas, item.Redrive));
        Assert.Contains("does not exist", item.Error);
        await AssertDispatcherIdleAsync();
        AssertLogGrewLittle(cluster.Dispatcher, lines, 1);
        await using (var db = new NpgsqlConnection(cluster.ServiceEnvironment["WORKQ_POSTGRES"]))
        {
            Assert.Equal(0, await db.ExecuteScalarAsync<int>(
                "select count(*) from scheduled_events where event_id = @id",
                new { id }));
            // No status is kept for a canvas that does not exist (nothing of a canvas outlives it): the quarantine item
            // is the record.
            Assert.Equal(
                0,
                await db.ExecuteScalarAsync<int>(
                    "select count(*) from event_status where canvas = @gone",
                    new { gone }));
        }

        // The next delayed emit is not held up.
        using (var response = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.EmitUrl($"/v1/canvases/{canvas}/workers/w/events?delaySeconds=0.2"),
            token,
            "4"))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var later = (await response.Content.ReadAsStringAsync()).As<EmitAccepted>().Id;
            await cluster.TraceOfAsync(canvas, "w", later, Within);
        }

        // Redriven while its canvas is still gone: refused, and kept.
        var redrive = cluster.ControlUrl($"/v1/quarantine/{item.Id}/redrive");
        using (var refused = await cluster.SendAsync(HttpMethod.Post, redrive, cluster.AdminToken))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        // Once the canvas and its worker exist, the redrive runs it, under its own id.
        var created = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl("/v1/canvases"),
            cluster.AdminToken,
            $$"""{"name":"{{gone}}"}""",
            expect: 201);
        await cluster.DeployAsync(gone, "w", "return 5;", token: created.As<CreatedCanvas>().Token);
        Assert.Equal(
            1,
            (await cluster.JsonAsync(HttpMethod.Post, redrive, cluster.AdminToken)).As<RedriveAnswer>().Redriven);
        await cluster.TraceOfAsync(gone, "w", id, Within);
        Assert.Equal("completed", await cluster.EventuallyAsync(
            () => StatusAsync(gone, id),
            s => s == "completed",
            Within,
            "the redriven event completed"));
        Assert.DoesNotContain(await QuarantineAsync(), x => x.Id == item.Id);
    }

    [Fact]
    public async Task Crons_and_a_parked_event_whose_canvas_lost_its_exchange_or_that_cannot_fire_are_quarantined_once()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("crn");
        await cluster.DeployAsync(canvas, "w", "return 6;", token: token);
        var (broken, orphan) = ("broken-" + Guid.NewGuid().ToString("N")[..6], "orphan-"
            + Guid.NewGuid().ToString("N")[..6]);
        var parked = Guid.CreateVersion7();
        var lines = LogLines(cluster.Dispatcher);
        // The exchange of the canvas is gone (deleted by hand): a tick of its cron can never be published. Its next
        // tick is next year's, so that a minute turning during the test fires nothing more.
        await channel.ExchangeDeleteAsync(Topology.CanvasExchange(canvas));
        await using (var db = new NpgsqlConnection(cluster.ServiceEnvironment["WORKQ_POSTGRES"]))
        {
            await db.ExecuteAsync("""
                insert into crons (canvas, name, schedule, worker, event, next_run) values
                    (@canvas, @orphan, '0 0 1 1 *', 'w', '{"tick": 1}', date_trunc('year', now())),
                    (@canvas, @broken, 'every full moon', 'w', '{"tick": 2}', now() - interval '1 second')
                """, new { canvas, orphan, broken });
            // Parked while w did not exist; w exists now, so the replayer publishes it.
            await db.ExecuteAsync("""
                insert into unhandled_events (canvas, worker, event_id, enqueued_at, depth, body)
                values (@canvas, 'w', @parked, now(), 0, '{"parked": 1}'::bytea)
                """, new { canvas, parked });
        }

        var items = await cluster.EventuallyAsync(
            () => QuarantineAsync($"&source=crons&canvas={canvas}"),
            i => i.Count == 2,
            Within,
            "both crons quarantined");
        Assert.Contains(items, i => i.Queue == orphan && i.Error.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(items, i => i.Queue == broken && i.Error.Contains("every full moon", StringComparison.Ordinal));
        await AssertDispatcherIdleAsync();
        var item = (await cluster.EventuallyAsync(
            () => QuarantineAsync($"&source=workq.unhandled&canvas={canvas}"),
            i => i.Count == 1,
            Within,
            "the parked event quarantined")).Single();
        Assert.Equal((parked, "emit"), (item.EventId, item.Redrive));
        Assert.Contains("does not exist", item.Error);
        Assert.Equal("quarantined", await cluster.EventuallyAsync(
            () => StatusAsync(canvas, parked),
            s => s == "quarantined",
            Within,
            "the parked event's status"));
        AssertLogGrewLittle(cluster.Dispatcher, lines, 3);
        // Once each: the broken cron stopped firing, the orphan moved on to its next tick.
        Assert.Equal(2, (await QuarantineAsync($"&source=crons&canvas={canvas}")).Count);
        var crons = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/crons"),
            token)).As<List<Cron>>();
        Assert.True(crons.Single(c => c.Name == broken).NextRun!.Value.Year == 9999);
        Assert.NotNull(crons.Single(c => c.Name == orphan).LastRun);
    }

    [Fact]
    public async Task The_incident_a_nul_in_a_handlers_error_ends_visible_and_nothing_loops()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("nul");
        await cluster.DeployAsync(canvas, "w", """throw new Exception("dead\u0000letter");""", token: token);
        await cluster.JsonAsync(HttpMethod.Patch, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w"), token,
            """{"retry":{"maxAttempts":1,"backoffSeconds":[]}}""");
        var lines = LogLines(cluster.Dispatcher);

        var id = await cluster.EmitAsync(canvas, "w", "1", token);

        // Kept as a dead letter (where a store keeps such text) or quarantined, and its status says which: never lost.
        var (quarantined, listed) = await cluster.EventuallyAsync(async () =>
            (Quarantined: (await QuarantineAsync($"&canvas={canvas}")).Any(i => i.EventId == id),
             Listed: (await DeadLettersAsync(canvas, token)).Any(d => d.Id == id)),
            seen => seen.Quarantined || seen.Listed, Within, "the event kept or quarantined");
        Assert.True(quarantined ^ listed);
        var expected = quarantined ? "quarantined" : "deadLettered";
        Assert.Equal(expected, await cluster.EventuallyAsync(
            () => StatusAsync(canvas, id),
            s => s == expected,
            Within,
            "the event's status"));
        await AssertDispatcherIdleAsync();
        AssertLogGrewLittle(cluster.Dispatcher, lines, 1);

        // The worker's flushes go on: the next event's status and trace are written.
        await cluster.DeployAsync(canvas, "ok", "return 1;", token: token);
        var next = await cluster.EmitAsync(canvas, "ok", "2", token);
        Assert.Equal("completed", await cluster.EventuallyAsync(
            () => StatusAsync(canvas, next),
            s => s == "completed",
            Within,
            "the next event completed"));
        await cluster.TraceOfAsync(canvas, "ok", next, Within);
    }

    [Fact]
    public async Task The_quarantine_api_lists_pages_shows_redrives_and_discards_for_admins_only()
    {
        var (canvas, canvasToken) = await cluster.CreateCanvasAsync("qapi");
        var poisons = Enumerable.Range(0, 3).Select(i => new Poison($"bad JSON {i}", Event(canvas, "nobody"),
            Encoding.UTF8.GetBytes($"{{\"n\": {i},"))).ToList();
        foreach (var poison in poisons) await PublishAsync("", Topology.UnhandledQueue, poison);
        await QuarantinedAsync(poisons, Topology.UnhandledQueue);

        // Newest first, paged like the dead letters.
        using var first = await cluster.SendAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/quarantine?canvas={canvas}&limit=2"),
            cluster.AdminToken);
        var page = (await first.Content.ReadAsStringAsync()).As<List<QuarantineItem>>();
        Assert.Equal(2, page.Count);
        Assert.True(page[0].Id > page[1].Id);
        var cursor = Assert.Single(first.Headers.GetValues("X-Next-Cursor"));
        Assert.Contains($"cursor={cursor}", first.Headers.GetValues("Link").Single());
        var rest = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/quarantine?canvas={canvas}&limit=2&cursor={cursor}"),
            cluster.AdminToken)).As<List<QuarantineItem>>();
        var oldest = Assert.Single(rest);
        Assert.Equal(poisons[0].Marker, oldest.Header(Marker));

        // One in full: the body as it was, its properties, where a redrive puts it.
        var one = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/quarantine/{oldest.Id}"),
            cluster.AdminToken)).As<QuarantineItem>();
        Assert.Equal(("{\"n\": 0,", "utf-8", false), (one.Body, one.BodyEncoding, one.BodyTruncated));
        Assert.Equal(("", Topology.UnhandledQueue, "workq.unhandled"), (one.Exchange, one.RoutingKey, one.Source));

        // A redrive puts it back where it came from; still poison, it comes back to the quarantine (once), under a new
        // id.
        Assert.Equal(1, (await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/quarantine/{oldest.Id}/redrive"),
            cluster.AdminToken)).As<RedriveAnswer>().Redriven);
        var again = await cluster.EventuallyAsync(
            () => QuarantineAsync($"&canvas={canvas}"),
            i => i.Count == 3 && i.All(x => x.Id != oldest.Id),
            Within,
            "the redriven message back in the quarantine");
        Assert.NotNull(Find(again, poisons[0]));

        // A flush's record is kept to be read, not redriven.
        var store = new QuarantineStore(NpgsqlDataSource.Create(cluster.ServiceEnvironment["WORKQ_POSTGRES"]));
        var record = await store.AddAsync(QuarantineEntry.Row(
            QuarantineSources.EventStatus,
            new { status = "x" },
            new FormatException("refused"),
            canvas,
            "w",
            null),
            CancellationToken.None);
        using (var conflict = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/quarantine/{record}/redrive"),
            cluster.AdminToken))
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);

        // Discard one, then the rest of the canvas's.
        var discard = cluster.ControlUrl($"/v1/quarantine/{record}");
        using (var gone = await cluster.SendAsync(HttpMethod.Delete, discard, cluster.AdminToken)) Assert.Equal(
            HttpStatusCode.NoContent,
            gone.StatusCode);
        using (var twice = await cluster.SendAsync(HttpMethod.Delete, discard, cluster.AdminToken)) Assert.Equal(
            HttpStatusCode.NotFound,
            twice.StatusCode);
        Assert.Equal(3, (await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/quarantine?canvas={canvas}"),
            cluster.AdminToken)).As<DiscardAnswer>().Discarded);
        Assert.Empty(await QuarantineAsync($"&canvas={canvas}"));

        // Admins only, and bad input is a 4xx problem, never a 500.
        foreach (var (path, token, status) in new (string, string?, HttpStatusCode)[]
        {
            ("/v1/quarantine", null, HttpStatusCode.Unauthorized),
            ("/v1/quarantine", canvasToken, HttpStatusCode.Forbidden),
            ("/v1/quarantine/1", canvasToken, HttpStatusCode.Forbidden),
            ("/v1/quarantine/abc", cluster.AdminToken, HttpStatusCode.BadRequest),
            ("/v1/quarantine/0", cluster.AdminToken, HttpStatusCode.BadRequest),
            ("/v1/quarantine?limit=0", cluster.AdminToken, HttpStatusCode.BadRequest),
            ("/v1/quarantine?cursor=x", cluster.AdminToken, HttpStatusCode.BadRequest),
            ("/v1/quarantine?canvas=not%20a%20name", cluster.AdminToken, HttpStatusCode.BadRequest),
            ("/v1/quarantine/999999999999", cluster.AdminToken, HttpStatusCode.NotFound),
        })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, cluster.ControlUrl(path), token);
            Assert.True(
                response.StatusCode == status,
                $"GET {path}: {(int)response.StatusCode}, expected {(int)status}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        // Counted in /metrics: what each service moved there, and (on control) what is in it now.
        async Task<string> ScrapeAsync(ServiceProcess service)
        {
            using var response = await cluster.SendAsync(
                HttpMethod.Get,
                new Uri(service.Url, "metrics"),
                cluster.AdminToken);
            return await response.Content.ReadAsStringAsync();
        }
        Assert.Contains("workq_quarantined_total{", await ScrapeAsync(cluster.Dispatcher));
        await cluster.EventuallyAsync(
            () => ScrapeAsync(cluster.Control),
            m => m.Contains("workq_quarantine_messages{", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15),
            "control's quarantine gauge");
    }
}
