using Workq.Bench;
using Workq.Bench.Scenarios;

// Progress goes to stderr; stdout carries only the markdown table. Whatever else writes to the console (Testcontainers'
// logger, with --broker cluster) goes to stderr with the progress.
if (args is [Pacer.Mode, ..]) return await Pacer.RunAsync(args, CancellationToken.None);
var table = Console.Out;
Console.SetOut(Console.Error);
var machine = MachineInfo.Read();
var options = BenchOptions.Parse(args);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
var ct = cancel.Token;
var startedAt = DateTimeOffset.UtcNow;
var total = Stopwatch.StartNew();
var payload = Payloads.Event(options.EventBytes);
var failures = new Dictionary<string, string>();

async Task<T?> Run<T>(string scenario, Func<Task<T>> run) where T : class
{
    try
    {
        await Quiet.WaitAsync(ct);
        Console.Error.WriteLine($"[bench] {total.Elapsed:mm\\:ss} {scenario} ...");
        var result = await run();
        Console.Error.WriteLine($"[bench] {total.Elapsed:mm\\:ss} {scenario} done");
        return result;
    }
    catch (Exception e) when (!ct.IsCancellationRequested)
    {
        // One scenario failing must not cost the others' figures: it is reported instead.
        Console.Error.WriteLine($"[bench] {scenario} failed: {e}");
        failures[scenario] = $"{e.GetType().Name}: {e.Message}";
        return null;
    }
}

// --broker cluster: the run's virtual host, the services and the baselines all go to a cluster started for it, removed
// at the end (after the bench cluster's own cleanup, which still needs it: disposal runs in reverse order).
await using var nodes = options.Broker == BenchOptions.ClusterBroker ? await StartNodesAsync(ct) : null;
if (nodes is not null)
{
    BenchCluster.Broker = nodes.Broker;
    BenchCluster.BrokerContainers = [.. nodes.Nodes.Select(n => n.Container.Id)];
}

await using var cluster = new BenchCluster();
await cluster.CreateAsync(ct);
Console.Error
    .WriteLine($"[bench] vhost {cluster.VirtualHost}, database {cluster.Database}, logs in {cluster.LogDirectory}");

// The baselines run before the Workq services start, so those idle processes do not share their CPU.
// Every contender first runs a tenth of its work unmeasured, so JIT tiering is done when the clock starts.
var raw = options.Runs("raw")
    ? await Run("raw", async () =>
    {
        await RawRabbitScenario.RunAsync(cluster.AmqpUrl, options.RawMessages / 10, options.Prefetch, payload, ct);
        return await RawRabbitScenario.RunAsync(cluster.AmqpUrl, options.RawMessages, options.Prefetch, payload, ct);
    })
    : null;
var massTransit = options.Runs("masstransit")
    ? await Run("masstransit", async () =>
    {
        await MassTransitScenario.RunAsync(
            cluster.AmqpUrl,
            options.MassTransitMessages / 10,
            options.Prefetch,
            payload,
            ct);
        return await MassTransitScenario.RunAsync(
            cluster.AmqpUrl,
            options.MassTransitMessages,
            options.Prefetch,
            payload,
            ct);
    })
    : null;

// The floor alone, at --wait-rate for --wait-seconds: to see the broker's own stalls over a long run.
if (options.Runs("rawwait") && await RawWaitAsync(options.WaitRate > 0 ? options.WaitRate : 1_000) is { } alone)
    Console.Error.WriteLine($"[bench] raw queue wait alone: p50 {alone.Waits.P50} / p99 {alone.Waits.P99} / max " +
        $"{alone.Waits.Max} ms over {alone.Waits.Count} messages");

BatchResult? batch = null;
BatchResult? coldBatch = null;
BatchResult? inBatches = null;
BigBatchResult? bigBatch = null;
DurableResult? durable = null;
WaitResult? heavyWait = null;
WaitResult? externalWait = null;
SingleResult? single = null;
WaitResult? wait = null;
WaitResult? lightWait = null;
PriorityResult? priorities = null;
ScaleResult? scale = null;
ColdStartResult? coldStart = null;
IsolationResult? isolation = null;
InstancesResult? instances = null;
WallsResult? walls = null;
if (new[]
    {
        "batch", "batches", "durable", "priorities", "single", "wait", "scale", "coldstart", "isolation", "walls",
        "instances",
    }
    .Any(options.Runs))
{
    using var http = WorkqApi.CreateLoadClient(Math.Max(256, options.SingleClients * 2));
    await using var sink = await WaitSink.StartAsync(ct);
    var workq = await Run("setup", async () =>
    {
        await cluster.StartServicesAsync(http, ct);
        var api = new WorkqApi(http, cluster.Control!.Url, cluster.Emitter!.Url, cluster.AdminToken);
        var scenarios = new WorkqScenarios(api, cluster, options, payload);
        await scenarios.SetUpAsync(sink.Url, ct);
        return scenarios;
    });
    if (workq is not null)
    {
        if (options.Runs("batch"))
        {
            // Twice: on services started seconds before (their JIT still busy), then warm. The warm pass is scenario 3.
            coldBatch = await Run("batch, cold services", () => workq.BatchAsync(ct));
            batch = await Run("batch", () => workq.BatchAsync(ct));
        }
        if (options.Runs("batches"))
        {
            // Right after the warm pass, on the same warm services: its ratio to it is the cost of batches.
            inBatches = await Run("batch, every event in a batch", () => workq.BatchAsync(ct, inBatches: true));
            bigBatch = await Run(
                $"a {options.BigBatchEvents:N0}-event batch and its callback",
                () => new BigBatchScenario(workq.Api, options).RunAsync(ct));
        }
        if (options.Runs("durable"))
            durable = await Run("100 durable steps, run and replayed",
                () => new DurableScenario(workq.Api).RunAsync(ct));
        if (options.Runs("priorities"))
            priorities = await Run("10 high events behind 1,000 normal ones",
                () => new PriorityScenario(workq.Api).RunAsync(ct));
        if (options.Runs("status") && batch is not null) await StatusCostAsync(workq, batch);
        if (options.Runs("single")) single = await Run("single", () => workq.SingleAsync(ct));
        if (options.Runs("wait"))
        {
            // Half of scenario 3's rate; without it, half of what single emits reached in scenario 4.
            var rate = options.WaitRate > 0
                ? options.WaitRate
                : 0.5 * (batch?.Run.PerSecond ?? single?.PerSecond ?? 1_000);
            wait = await Run("wait", () => workq.QueueWaitAsync(rate, sink, ct));
            // And at three quarters, where the machine nears its limit, and a quarter, where it is far from it.
            heavyWait = await Run("wait at three quarters", () => workq.QueueWaitAsync(rate * 1.5, sink, ct));
            lightWait = await Run("wait at a quarter", () => workq.QueueWaitAsync(rate / 2, sink, ct));
            externalWait = await Run(
                "wait, emitted from a second process",
                () => workq.QueueWaitAsync(rate, sink, ct, external: true));
            if (options.Runs("raw"))
            {
                // The floor at each rate: what the broker alone gives a publisher and a consumer.
                if (wait is not null && await RawWaitAsync(wait.TargetPerSecond) is { } floor)
                    wait = wait with { Raw = floor.Waits, RawTimeline = floor.Timeline };
                if (heavyWait is not null && await RawWaitAsync(heavyWait.TargetPerSecond) is { } heavy)
                    heavyWait = heavyWait with { Raw = heavy.Waits, RawTimeline = heavy.Timeline };
            }
        }
        if (options.Runs("scale")) scale = await Run(
            "scale",
            () => new ScaleScenario(workq.Api, cluster, options, payload).RunAsync(ct));
        if (options.Runs("coldstart")) coldStart = await Run(
            "cold start",
            () => new RunnerScenario(workq.Api, cluster, options, payload).RunAsync(sink, ct));
        if (options.Runs("isolation"))
        {
            // Everything above ran with runner processes (canvas isolation, the default): that is the first canvas
            // pass. Then the worker service alone is restarted, without them and with them again, so canvas brackets
            // none.
            var quarterRate = lightWait?.TargetPerSecond ?? (options.WaitRate > 0
                ? options.WaitRate / 2.0
                : 0.25 * (batch?.Run.PerSecond ?? 4_000));
            var passes = new List<IsolationPass>();
            if (batch is not null || lightWait is not null) passes.Add(
                new IsolationPass("canvas", batch, lightWait, Ratio(batch?.Run.PerSecond, raw?.PerSecond)));
            foreach (var mode in new[] { "none", "canvas" })
            {
                var restarted = await Run($"worker restart, WORKQ_ISOLATION={mode}", async () =>
                {
                    await cluster.RestartWorkerAsync(mode, http, ct);
                    await workq.WaitConsumingAsync(ct);
                    return mode;
                });
                if (restarted is null) break;
                var passBatch = await Run($"batch, isolation {mode}", () => workq.BatchAsync(ct));
                var passWait = await Run(
                    $"wait at a quarter, isolation {mode}",
                    () => workq.QueueWaitAsync(quarterRate, sink, ct));
                passes.Add(
                    new IsolationPass(mode, passBatch, passWait, Ratio(passBatch?.Run.PerSecond, raw?.PerSecond)));
            }
            isolation = IsolationResult.Of(passes, raw);
        }
        if (options.Runs("walls")) walls = await Run(
            "walls (sandbox off, on; Http in process)",
            () => new WallsScenario(workq, cluster, options, payload).RunAsync(http, sink, ct));
        if (options.Runs("instances"))
        {
            // Last: the instances it starts run until the end, and would share the machine with any scenario after
            // them.
            var passes = new List<InstancesPass>();
            for (var n = 1; n <= options.MaxInstances; n++)
            {
                var pass = await Run(
                    $"batch with {n} worker instance{(n == 1 ? "" : "s")}",
                    () => workq.InstancesAsync(n, ct));
                if (pass is null) break;
                passes.Add(pass);
            }
            instances = new InstancesResult(options.Broker, BenchCluster.Broker.AmqpBases.Count, passes);
        }
    }
}

var report = new BenchReport(
    startedAt,
    Math.Round(total.Elapsed.TotalSeconds, 1),
    machine,
    options,
    raw,
    massTransit,
    batch,
    single,
    wait,
    lightWait,
    scale,
    coldStart,
    isolation,
    Ratio(batch?.Run.PerSecond, raw?
        .PerSecond),
    Ratio(batch?.Run.PerSecond, massTransit?.PerSecond),
    [],
    [],
    failures,
    instances,
    walls)
{
    ColdBatch = coldBatch,
    InBatches = inBatches,
    BigBatch = bigBatch,
    Durable = durable,
    Priorities = priorities,
    HeavyWait = heavyWait,
    ExternalWait = externalWait,
};
report = report with
{
    Targets = Report.Targets(report),
    RunnerBudget = Report.RunnerBudget(report),
    Goals = Report.Goals(report),
    WallsBudget = Report.WallsBudget(report)
};
var markdown = Report.Markdown(report);
table.WriteLine(markdown);
Console.Error.WriteLine($"[bench] results written to {await Report.WriteAsync(report, markdown, ct)}");
return failures.Count == 0 ? 0 : 1;

// Event status on against off, in the same run: the emitter and the worker, which write a status for every event,
// restarted without them, then with them again, and the batch run once more. "On" is the mean of the batch above and
// that last run, which bracket "off", so neither side gets the cold start or the warmer machine. Printed and kept
// beside the results (BENCHMARKS.md takes the numbers).
async Task StatusCostAsync(WorkqScenarios workq, BatchResult on)
{
    using var http = new HttpClient();
    var off = await Run("batch, WORKQ_EVENT_STATUS=off (emitter, worker)", async () =>
    {
        await cluster.RestartWithEventStatusAsync(on: false, http, ct);
        await workq.WaitConsumingAsync(ct);
        return await workq.BatchAsync(ct);
    });
    var again = await Run("batch, WORKQ_EVENT_STATUS=on again", async () =>
    {
        await cluster.RestartWithEventStatusAsync(on: true, http, ct);
        await workq.WaitConsumingAsync(ct);
        return await workq.BatchAsync(ct);
    });
    if (off is null || again is null) return;
    var mean = (on.Run.PerSecond + again.Run.PerSecond) / 2;
    // CPU per event (every process, the servers too) is steadier than a throughput on shared cores: what on costs, as a
    // share of capacity.
    static double Cpu(BatchResult run) => run.Cpu.Sum(c => c.MicrosPerEvent);
    var cpuOn = (Cpu(on) + Cpu(again)) / 2;
    var line = $"event status: batch {on.Run.PerSecond:F0} events/s on, {off.Run.PerSecond:F0} off " +
        $"(emitter, worker), {again.Run.PerSecond:F0} on again; " +
        $"on/off = {mean / off.Run.PerSecond:P1}; CPU per event {Cpu(on):F0} / {Cpu(off):F0} / {Cpu(again):F0} µs, " +
            $"off/on = {Cpu(off) / cpuOn:P1}";
    Console.Error.WriteLine($"[bench] {line}");
    Directory.CreateDirectory(options.Results);
    await File.WriteAllTextAsync(Path.Combine(options.Results, "event-status.txt"), line + Environment.NewLine, ct);
}

async Task<RabbitNodes> StartNodesAsync(CancellationToken cancellationToken)
{
    if (RabbitNodes
        .Unavailable is { } why) throw new InvalidOperationException($"--broker {BenchOptions.ClusterBroker}: {why}");
    Console.Error.WriteLine($"[bench] {total.Elapsed:mm\\:ss} starting a {BenchOptions.ClusterNodes}-node RabbitMQ " +
        $"cluster in containers ...");
    var started = await RabbitNodes.StartAsync(BenchOptions.ClusterNodes, cancellationToken);
    Console.Error.WriteLine($"[bench] {total.Elapsed:mm\\:ss} cluster up: {string.Join(", ", started.Nodes.Select(n
        => $"{n.Name} {n.Address}"))} (network {started.NetworkName})");
    return started;
}

// The floor at a rate: the raw client's queue wait, and where in time its slow stretches were.
Task<FloorResult?> RawWaitAsync(double rate) => Run($"raw wait at {rate:F0}/s", () => RawRabbitScenario.QueueWaitAsync(
    cluster.AmqpUrl,
    rate,
    options.WaitSeconds,
    options.Prefetch,
    payload,
    Path.Combine(options.Results, $"raw-queue-wait-{rate:F0}.tsv"),
    ct));

static double? Ratio(double? over, double? under)
    => over is { } o && under is { } u && u > 0 ? Math.Round(o / u, 3) : null;
