using Workq.Bench;
using Workq.Bench.Scenarios;

// Progress goes to stderr; stdout carries only the markdown table. Whatever else writes to the console (Testcontainers'
// logger, with --broker cluster) goes to stderr with the progress.
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

BatchResult? batch = null;
SingleResult? single = null;
WaitResult? wait = null;
WaitResult? lightWait = null;
ScaleResult? scale = null;
ColdStartResult? coldStart = null;
IsolationResult? isolation = null;
InstancesResult? instances = null;
WallsResult? walls = null;
if (new[] { "batch", "single", "wait", "scale", "coldstart", "isolation", "walls", "instances" }.Any(options.Runs))
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
        if (options.Runs("batch")) batch = await Run("batch", () => workq.BatchAsync(ct));
        if (options.Runs("status") && batch is not null) await StatusCostAsync(workq, batch);
        if (options.Runs("single")) single = await Run("single", () => workq.SingleAsync(ct));
        if (options.Runs("wait"))
        {
            // Half of scenario 3's rate; without it, half of what single emits reached in scenario 4.
            var rate = options.WaitRate > 0
                ? options.WaitRate
                : 0.5 * (batch?.Run.PerSecond ?? single?.PerSecond ?? 1_000);
            wait = await Run("wait", () => workq.QueueWaitAsync(rate, sink, ct));
            // And at a quarter: where the tail stands when the machine is not near its limit.
            if (options.WaitRate == 0) lightWait = await Run(
                "wait at a quarter",
                () => workq.QueueWaitAsync(rate / 2, sink, ct));
            if (wait is not null && options.Runs("raw"))
            {
                var rawWait = await Run("raw wait", () => RawRabbitScenario.QueueWaitAsync(
                    cluster.AmqpUrl,
                    wait.TargetPerSecond,
                    options.WaitSeconds,
                    options.Prefetch,
                    payload,
                    ct));
                wait = wait with { Raw = rawWait };
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
    walls);
report = report with
{
    Targets = Report.Targets(report),
    RunnerBudget = Report.RunnerBudget(
    report),
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

static double? Ratio(double? over, double? under)
    => over is { } o && under is { } u && u > 0 ? Math.Round(o / u, 3) : null;
