using System.Text.Json.Serialization;

namespace Workq.Bench.Reporting;

/// <summary>
/// Turns a run into the markdown table (stdout, and BENCHMARKS.md by hand) and the JSON kept under bench/results.
/// </summary>
public static class Report
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerOptions.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static IReadOnlyList<Target> Targets(BenchReport r) =>
    [
        new(
            "Workq batch (3) vs MassTransit (2)",
            ">= 2x",
            Times(r.WorkqOverMassTransit),
            r.WorkqOverMassTransit is { } mt ? mt >= 2 : null),
        new(
            $"worker RSS with {r.Scale?.Workers ?? r.Options.ScaleWorkers} workers (6)",
            "< 400 MB",
            r.Scale is { } s ? $"{N(s.WorkerRssAfterMb)} MB" : "not run",
            r.Scale is { Workers: >= 1_000 } scale ? scale.WorkerRssAfterMb < 400 : null),
    ];

    /// <summary>The processes that are Workq's own: every column but the broker, the database and the bench.</summary>
    public static double WorkqMicros(IReadOnlyList<CpuShare> cpu)
        => cpu.Where(c => c.Process is not ("rabbitmq" or "postgres" or "bench")).Sum(c => c.MicrosPerEvent);

    private static double? PostgresMicros(IReadOnlyList<CpuShare> cpu)
        => cpu.FirstOrDefault(c => c.Process == "postgres")?.MicrosPerEvent;

    public const double WorkqMicrosGoal = 35;
    public const double PostgresMicrosGoal = 5;
    /// <summary>
    /// What each service may allocate per event in scenario 3 (the others: 1 KiB): a budget at the figures of
    /// 2026-12-07 (emitter 4.4 KB, worker 6.0 KB) with some room, so that a regression shows in the next run.
    /// </summary>
    private static readonly Dictionary<string, double> AllocatedBytesBudget = new()
    {
        ["emitter"] = 5_120,
        ["worker"] = 7_168,
    };

    private static double AllocationBudget(string process) => AllocatedBytesBudget.GetValueOrDefault(process, 1_024);

    /// <summary>Issue 27's goals: CPU per event, the tail under load against the broker's floor, throughput.</summary>
    public static IReadOnlyList<Target> Goals(BenchReport r)
    {
        var batch = r.Batch;
        var workq = batch is null ? (double?)null : WorkqMicros(batch.Cpu);
        var postgres = batch is null ? null : PostgresMicros(batch.Cpu);
        return
        [
            new("Workq's own CPU per event, batch (3): control + emitter + dispatcher + worker + runners",
                $"<= {N(WorkqMicrosGoal)} µs",
                workq is { } w
                    ? $"{N(w)} µs (cold services: {Opt(r.ColdBatch is { } c ? WorkqMicros(c.Cpu) : null, " µs")})"
                    : "not run",
                workq is { } met ? met <= WorkqMicrosGoal : null),
            new("PostgreSQL CPU per event, batch (3)", $"<= {N(PostgresMicrosGoal)} µs",
                postgres is { } p ? $"{N(p)} µs" : "not run", postgres is { } pm ? pm <= PostgresMicrosGoal : null),
            Tail("p99 queue wait at half load (5) vs the raw floor at that rate (5r)", r.Wait, r.Wait?.Raw),
            Tail("p99 queue wait at three quarters load (5c) vs the raw floor at that rate (5rc)", r.HeavyWait,
                r.HeavyWait?.Raw),
            Tail("p99 queue wait at half load, emitted from a second process (5e), vs the raw floor (5r)",
                r.ExternalWait, r.Wait?.Raw),
            new("Workq batch (3) vs raw (1)", ">= 95 %",
                r.WorkqOverRaw is { } raw
                    ? $"{Percent(raw)} (cold services: " +
                        $"{Percent(Ratio(r.ColdBatch?.Run.PerSecond, r.Raw?.PerSecond))})"
                    : "not run",
                r.WorkqOverRaw is { } ratio ? ratio >= 0.95 : null),
            Allocations(r.Batch),
            new("Workq batch with every event in a batch (3b) vs without (3), issue 28", ">= 90 %",
                Ratio(r.InBatches?.Run.PerSecond, r.Batch?.Run.PerSecond) is { } batched
                    ? $"{Percent(batched)} ({N(r.InBatches!.Run.PerSecond)} vs {N(r.Batch!.Run.PerSecond)} events/s)"
                    : "not run",
                Ratio(r.InBatches?.Run.PerSecond, r.Batch?.Run.PerSecond) is { } b ? b >= 0.9 : null),
            new($"a {N(r.Options.BigBatchEvents)}-event batch (10): its callback after its last member's end, issue 28",
                "<= 2 s",
                r.BigBatch is { } big ? $"{N(big.CallbackLagMs / 1000)} s" : "not run",
                r.BigBatch is { } lag ? lag.CallbackLagMs <= 2_000 : null),
            new($"single emits (4), {r.Options.SingleClients} clients", ">= 9,000 req/s, p99 <= 30 ms",
                r.Single is { } s ? $"{N(s.PerSecond)} req/s, p99 {N(s.Latency.P99)} ms" : "not run",
                r.Single is { } single ? single.PerSecond >= 9_000 && single.Latency.P99 <= 30 : null),
        ];

        static Target Allocations(BatchResult? batch)
        {
            var shares = batch?.Allocated ?? [];
            return new("allocations per event, batch (3), each service (bytes)",
                $"emitter <= {N(AllocationBudget("emitter"))}, worker <= {N(AllocationBudget("worker"))}, others <= " +
                    $"{N(AllocationBudget(""))}",
                shares.Count > 0
                    ? string.Join(", ", shares.Select(a => $"{a.Process} {N(a.BytesPerEvent)}"))
                    : "not run",
                shares.Count > 0 ? shares.All(a => a.BytesPerEvent <= AllocationBudget(a.Process)) : null);
        }

        static Target Tail(string what, WaitResult? wait, Latencies? floor)
        {
            var times = wait is { Reported.Count: > 0 } && floor is { Count: > 0 }
                ? wait.Reported.P99 / floor.P99
                : (double?)null;
            return new(what, "<= 3x",
                times is { } t ? $"{N(wait!.Reported.P99)} vs {N(floor!.P99)} ms: {Times(t)}" : "not run",
                times is { } m ? m <= 3 : null);
        }
    }

    private static double? Ratio(double? over, double? under)
        => over is { } o && under is { } u && u > 0 ? o / u : null;

    /// <summary>
    /// Issue 13's performance budget for runner processes (canvas isolation), against none and the raw client of the
    /// same run.
    /// </summary>
    public static IReadOnlyList<Target> RunnerBudget(BenchReport r)
    {
        var i = r.Isolation;
        var c = r.ColdStart;
        double? Over(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;
        var p50 = Over(i?.CanvasWaitP50, i?.NoneWaitP50);
        var p99 = Over(i?.CanvasWaitP99, i?.NoneWaitP99);
        return
        [
            new("batch events/s (3), canvas isolation vs raw RabbitMQ.Client (1)", ">= 70 %",
                i?.CanvasOverRaw is { } canvas
                    ? $"{Percent(canvas)} (none: {Percent(i.NoneOverRaw)})"
                    : "not run", i?.CanvasOverRaw is { } met ? met >= 0.7 : null),
            new("queue wait p50 at a quarter load (5b), canvas vs none", "<= 1.5x",
                p50 is { } a
                    ? $"{N(i!.CanvasWaitP50!.Value)} vs {N(i.NoneWaitP50!.Value)} ms: {Times(a)}"
                    : "not run", p50 is { } pa ? pa <= 1.5 : null),
            new("queue wait p99 at a quarter load (5b), canvas vs none", "<= 1.5x",
                p99 is { } b
                    ? $"{N(i!.CanvasWaitP99!.Value)} vs {N(i.NoneWaitP99!.Value)} ms: {Times(b)}"
                    : "not run", p99 is { } pb ? pb <= 1.5 : null),
            new("cold start (7): queue wait of the first event after idle, p50", "<= 300 ms",
                c is { Cold.Count: > 0 }
                    ? $"{N(c.Cold.P50)} ms (p90 {N(c.Cold.P90)}, max {N(c.Cold.Max)}; warm p50 {N(c.Warm.P50)})"
                    : "not run",
                c is { Cold.Count: > 0 } cold ? cold.Cold.P50 <= 300 : null),
            new("warm runner RSS, one small handler (7)", "<= 60 MB",
                c is not null ? $"{N(c.RunnerRssMaxMb)} MB at most (median {N(c.RunnerRssMedianMb)}; worker service " +
                    $"{N(c.WorkerRssMb)} MB)" : "not run",
                c is not null ? c.RunnerRssMaxMb <= 60 : null),
        ];
    }

    /// <summary>
    /// Issue 24's budget for the two walls (scenario 9): the OS sandbox on against off, and Http relayed against in
    /// process.
    /// </summary>
    public static IReadOnlyList<Target> WallsBudget(BenchReport r)
    {
        if (r.Walls is not { On: { } on, Off: { } off } walls) return [];
        var ratio = on.Batch.Run.PerSecond / off.Batch.Run.PerSecond;
        var overhead = on.Http.P50 - walls.InProcessHttp.P50;
        return
        [
            new(
                "cold start p50 (9), sandbox on",
                "<= 300 ms",
                $"{N(on.ColdStart.Cold.P50)} ms (off: {N(off.ColdStart.Cold.P50)} ms)",
                on.ColdStart.Cold.P50 <= 300),
            new(
                "warm runner RSS (9), sandbox on",
                "<= 60 MB",
                $"{N(on.ColdStart.RunnerRssMaxMb)} MB at most (off: {N(off.ColdStart.RunnerRssMaxMb)} MB)",
                on.ColdStart.RunnerRssMaxMb <= 60),
            new(
                "batch events/s (9), sandbox on vs off",
                ">= 95 %",
                $"{N(on.Batch.Run.PerSecond)} vs {N(off.Batch.Run.PerSecond)}: {Percent(ratio)}",
                ratio >= 0.95),
            new("Http p50 per request (9), relayed by the supervisor vs in process", "<= +1 ms",
                $"{N(on.Http.P50)} vs {N(walls.InProcessHttp.P50)} ms: {(overhead >= 0 ? "+" : "")}{N(overhead)} ms " +
                    $"(p99 {N(on.Http.P99)} vs {N(walls.InProcessHttp.P99)}; sandbox off {N(off.Http.P50)})",
                overhead <= 1),
        ];
    }

    public static string Markdown(BenchReport r)
    {
        var md = new StringBuilder();
        var onCluster = r.Options.Broker == BenchOptions.ClusterBroker
            ? $" Broker: a {BenchOptions.ClusterNodes}-node RabbitMQ cluster in containers."
            : "";
        md.AppendLine(CultureInfo.InvariantCulture, $"Run of {r.StartedAt:yyyy-MM-dd HH:mm} UTC, {N(r.TotalSeconds)} " +
            $"s; {r.Options.EventBytes}-byte JSON events, prefetch/concurrency {r.Options.Prefetch}.{onCluster}");
        md.AppendLine();
        md.AppendLine("| # | scenario | result | detail |");
        md.AppendLine("| --- | --- | --- | --- |");
        if (r.Raw is { } raw)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 1 | raw RabbitMQ.Client " +
                $"{VersionOf(typeof(RabbitMQ.Client.IConnection))}: quorum queue, persistent, pipelined confirms, " +
                    $"manual acks | **{N(raw.PerSecond)} msg/s** | {N(raw.Messages)} messages in {N(raw.Seconds)} s " +
                        $"(all confirmed at {N(raw.PublishSeconds)} s) |");
        if (r.MassTransit is { } mt)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 2 | MassTransit {VersionOf(typeof(MassTransit.IBus))}: " +
                $"Publish with confirms, quorum receive endpoint | **{N(mt.PerSecond)} msg/s** | {N(mt.Messages)} " +
                    $"messages in {N(mt.Seconds)} s (all confirmed at {N(mt.PublishSeconds)} s) |");
        if (r.Batch is { } batch)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 3 | Workq end to end: batch emit " +
                $"({r.Options.BatchSize}/request, {r.Options.ParallelBatches} in parallel) → `return null;` → ack | " +
                    $"**{N(batch.Run.PerSecond)} events/s** | {N(batch.Run.Messages)} events in " +
                        $"{N(batch.Run.Seconds)} s; all 202s at {N(batch.Run.PublishSeconds)} s " +
                            $"({N(batch.EmitPerSecond)} events/s emitted); Workq/raw {Percent(r.WorkqOverRaw)}, " +
                                $"Workq/MassTransit {Times(r.WorkqOverMassTransit)} |");
        if (r.ColdBatch is { } cold)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 3c | scenario 3's first pass, on services started " +
                $"seconds before (their JIT still busy) | **{N(cold.Run.PerSecond)} events/s** | " +
                    $"{N(cold.Run.Messages)} events in {N(cold.Run.Seconds)} s; Workq/raw " +
                        $"{Percent(Ratio(cold.Run.PerSecond, r.Raw?.PerSecond))} |");
        if (r.InBatches is { } inBatches)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 3b | scenario 3 with every event in a batch " +
                $"(`POST .../batches`, {r.Options.BatchSize} events each, closed) | **{N(inBatches.Run.PerSecond)} " +
                    $"events/s** | {N(inBatches.Run.Messages)} events in {N(inBatches.Run.Seconds)} s; " +
                        $"{Percent(Ratio(inBatches.Run.PerSecond, r.Batch?.Run.PerSecond))} of scenario 3 |");
        if (r.BigBatch is { } big)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 10 | one batch of {N(big.Events)} events (open, " +
                $"{N(big.Events / 1000)} adds of 1,000, close) → `onComplete` reads every result | " +
                    $"**callback {N(big.CallbackLagMs)} ms after the last member ended** | filled in " +
                        $"{N(big.AddedSeconds)} s, callback done at {N(big.TotalSeconds)} s; it read {N(big.Read)} " +
                            $"results ({N(big.Completed)} completed) in {N(big.ReadMs)} ms |");
        if (r.Durable is { } durable)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 11 | {durable.Events} durable events of 100 `Step`s, " +
                $"then a 3 s `Sleep` | **replay of the 100 steps: {N(durable.ReplayMs)} ms a run** (median) | the " +
                    $"first run, each step run and kept: {N(durable.FirstRunMs)} ms |");
        if (r.Priorities is { } priority)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 12 | {N(priority.High)} `high` events emitted behind " +
                $"{N(priority.Normal)} queued `normal` ones, concurrency 1, then resumed | **the last `high` started " +
                    $"{Ordinal(priority.LastHighPosition)} (goal: by the 11th)**, {N(priority.LastHighStartMs)} ms " +
                        $"after the resume | the `normal` ones: median {N(priority.NormalMedianStartMs)} ms, last " +
                            $"{N(priority.LastNormalStartMs)} ms after it |");
        if (r.Single is { } single)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 4 | Workq single emits, {r.Options.SingleClients} " +
                $"concurrent clients | **{N(single.PerSecond)} req/s** | 202 latency p50 {N(single.Latency.P50)} / " +
                    $"p95 {N(single.Latency.P95)} / p99 {N(single.Latency.P99)} ms (max {N(single.Latency.Max)}); " +
                        $"{N(single.Requests)} requests in {N(single.Seconds)} s, {single.Errors} errors |");
        if (r.Wait is { } wait)
            md.AppendLine(CultureInfo.InvariantCulture, $"| 5 | queue wait (enqueue → handler start) at " +
                $"{N(wait.AchievedPerSecond)} events/s ({(r.Options.WaitRate > 0 ? "--wait-rate" : "50 % of 3")}; " +
                $"the machine {Percent(wait.MachineBusy)} busy) | **p50 {N(wait.Reported.P50)} / p95 " +
                $"{N(wait.Reported.P95)} / p99 {N(wait.Reported.P99)} ms** | every event, as its handler reported it " +
                $"({N(wait.Reported.Count)} events, max {N(wait.Reported.Max)} ms); runner's queueWaitMs from " +
                $"{N(wait.Traced.Count)} sampled traces: p50 {N(wait.Traced.P50)} / p95 {N(wait.Traced.P95)} / p99 " +
                $"{N(wait.Traced.P99)} ms{Stalls(wait)} |");
        if (r.HeavyWait is { } heavy) WaitRow(md, "5c", "three quarters of 3", heavy);
        if (r.LightWait is { } light) WaitRow(md, "5b", "a quarter of 3", light);
        if (r.ExternalWait is { } external)
            WaitRow(md, "5e", "half of 3, emitted from a second process whose CPU is not counted", external);
        if (r.Wait is { Raw: { } rawWait } w5) FloorRow(md, "5r", w5.TargetPerSecond, rawWait, w5.RawTimeline);
        if (r.HeavyWait is { Raw: { } heavyFloor } w5c)
            FloorRow(md, "5rc", w5c.TargetPerSecond, heavyFloor, w5c.RawTimeline);
        if (r.Scale is { } scale)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| 6a | deploy {N(scale.Workers)} workers on " +
                $"{N(scale.Canvases)} canvases ({r.Options.DeployParallelism} PUTs at a time) | " +
                    $"**{N(scale.AllConsumingSeconds)} s** | all PUTs answered at {N(scale.DeploySeconds)} s; all " +
                        $"consumed by the worker instance at {N(scale.AllConsumingSeconds)} s |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| 6b | worker instance RSS, {N(scale.Workers)} idle " +
                $"workers | **{N(scale.WorkerRssAfterMb)} MB** | {N(scale.WorkerRssBeforeMb)} MB before the deploy " +
                $"(2 workers) |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| 6c | control `GET /v1/canvases/{{c}}/workers`, " +
                $"{scale.ListWorkers}-worker canvas | **p50 {N(scale.List.P50)} / p95 {N(scale.List.P95)} / p99 " +
                    $"{N(scale.List.P99)} ms** | {scale.List.Count} sequential requests |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| 6d | throughput spread over {scale.ListWorkers} workers " +
                $"(batch emit as in 3) | **{N(scale.Spread.PerSecond)} events/s** | {N(scale.Spread.Messages)} " +
                $"events in {N(scale.Spread.Seconds)} s (all 202s at {N(scale.Spread.PublishSeconds)} s) |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| 6e | delete the {N(scale.Canvases)} canvases with their " +
                $"workers and queues ({r.Options.DeployParallelism} at a time) | **{N(scale.DeleteSeconds)} s** | " +
                    $"`DELETE /v1/canvases/{{c}}`, answered once the queues are gone |");
        }
        md.AppendLine();
        md.AppendLine("| target | goal | measured | met |");
        md.AppendLine("| --- | --- | --- | --- |");
        foreach (var t in r.Goals.Concat(r.Targets)) md.AppendLine(
            CultureInfo.InvariantCulture,
            $"| {t.What} | {t.Goal} | {t.Measured} | {Met(t.Met)} |");
        RunnerSection(md, r);
        WallsSection(md, r);
        var cpuRows = new List<(string Scenario, IReadOnlyList<CpuShare> Cpu)>();
        if (r.Batch is { } b) cpuRows.Add(("3 batch", b.Cpu));
        if (r.ColdBatch is { } cb) cpuRows.Add(("3c batch, cold services", cb.Cpu));
        if (r.InBatches is { } ib) cpuRows.Add(("3b batch, every event in a batch", ib.Cpu));
        if (r.Single is { } se) cpuRows.Add(("4 single emits (per request)", se.Cpu));
        if (r.Wait is { } w) cpuRows.Add(("5 queue wait", w.Cpu));
        if (r.HeavyWait is { } hw) cpuRows.Add(("5c queue wait, 75 %", hw.Cpu));
        if (r.LightWait is { } lw) cpuRows.Add(("5b queue wait, 25 %", lw.Cpu));
        if (r.ExternalWait is { } ew) cpuRows.Add(("5e queue wait, second process", ew.Cpu));
        foreach (var (pass, n) in (r.Isolation?.Passes ?? []).Select((p, n) => (p, n + 1))
            .Skip(r.Batch is null && r.LightWait is null ? 0 : 1))
        {
            if (pass.Batch is { } pb) cpuRows.Add(($"3 batch, pass {n} ({pass.Isolation})", pb.Cpu));
            if (pass.QuarterWait is { } pw) cpuRows.Add(($"5b queue wait, pass {n} ({pass.Isolation})", pw.Cpu));
        }
        if (cpuRows.Count > 0)
        {
            var processes = cpuRows[0].Cpu.Select(c => c.Process).ToList();
            md.AppendLine();
            md.AppendLine("CPU per event (µs of CPU time per event, by process; runners are the worker's child " +
                "processes, live or exited; workq is the services and runners together; postgres counts every " +
                    "backend on the server):");
            md.AppendLine();
            md.AppendLine("| scenario | " + string.Join(" | ", processes) + " | workq | total |");
            md.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", processes.Count + 2)));
            foreach (var (scenario, cpu) in cpuRows)
                md.AppendLine($"| {scenario} | " + string.Join(" | ", cpu.Select(c => N(c.MicrosPerEvent)))
                    + $" | {N(WorkqMicros(cpu))} | {N(cpu.Sum(c => c.MicrosPerEvent))} |");
            md.AppendLine("| goal (issue 27), 3 batch | " + string.Join(" | ", processes.Select(p => p == "postgres"
                ? $"<= {N(PostgresMicrosGoal)}"
                : "")) + $" | <= {N(WorkqMicrosGoal)} | |");
        }
        InstancesSection(md, r);
        foreach (var (scenario, failure) in r.Failures) md.AppendLine(
            CultureInfo.InvariantCulture,
            $"\n**{scenario} failed:** {failure}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {r.Machine.Cores} cores, {N(r.Machine.MemoryMb)} MB, " +
            $"{r.Machine.Os} ({r.Machine.Kernel}), {r.Machine.DotNet}; load average at start " +
                $"{r.Machine.LoadAverageAtStart}. {r.Machine.Note}.");
        return md.ToString();
    }

    private static void WaitRow(StringBuilder md, string number, string rate, WaitResult wait) =>
        md.AppendLine(CultureInfo.InvariantCulture, $"| {number} | queue wait as in 5, at " +
            $"{N(wait.AchievedPerSecond)} events/s ({rate}; the machine {Percent(wait.MachineBusy)} busy) | **p50 " +
            $"{N(wait.Reported.P50)} / p95 {N(wait.Reported.P95)} / p99 {N(wait.Reported.P99)} ms** | " +
            $"{N(wait.Reported.Count)} events, max {N(wait.Reported.Max)} ms{Stalls(wait)} |");

    private static string Stalls(WaitResult wait) => Slow(wait.Timeline);

    /// <summary>Where a run's slow events were: a few stretches are a stall, many are the CPU queue.</summary>
    private static string Slow(WaitTimeline? timeline) => timeline is { Steps: > 0 } t
        ? $"; past 50 ms: {N(t.SlowEvents)} in {t.SlowSteps} of {t.Steps} 100 ms steps" +
            (t.SlowSteps > 0 ? $" (slowest: {t.Worst})" : "")
        : "";

    private static void FloorRow(
        StringBuilder md,
        string number,
        double rate,
        Latencies floor,
        WaitTimeline? timeline) =>
        md.AppendLine(CultureInfo.InvariantCulture, $"| {number} | the floor: raw RabbitMQ.Client publish → consume " +
            $"on the same kind of queue at {N(rate)} msg/s | **p50 {N(floor.P50)} / p95 {N(floor.P95)} / p99 " +
                $"{N(floor.P99)} ms** | {N(floor.Count)} messages, max {N(floor.Max)} ms, with the idle Workq " +
                    $"services running beside it{Slow(timeline)} |");

    /// <summary>
    /// Issue 13: scenarios 3 and 5b in each isolation mode, the cold start, the runner's memory, and the budget.
    /// </summary>
    private static void RunnerSection(StringBuilder md, BenchReport r)
    {
        if (r.Isolation is null && r.ColdStart is null) return;
        md.AppendLine();
        md.AppendLine("Runner processes (issue 13): isolation on (`WORKQ_ISOLATION=canvas`, a runner process per " +
            "canvas) and off (`none`, handlers in the worker service):");
        if (r.Isolation is { Passes.Count: > 0 } isolation)
        {
            md.AppendLine();
            md.AppendLine(
                "| pass | isolation | batch (3) | vs raw | queue wait at a quarter load (5b) | at | machine busy |");
            md.AppendLine("| --- | --- | ---: | ---: | --- | ---: | ---: |");
            foreach (var (pass, n) in isolation.Passes.Select((p, n) => (p, n + 1)))
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {n} | {pass.Isolation} | " +
                    $"{(pass.Batch is { } b ? $"{N(b.Run.PerSecond)} events/s" : "failed")} | " +
                    $"{Percent(pass.BatchOverRaw)} | " +
                    $"{(pass.QuarterWait is { } w
                        ? $"p50 {N(w.Reported.P50)} / p95 {N(w.Reported.P95)} / p99 {N(w.Reported.P99)} ms " +
                            $"(max {N(w.Reported.Max)})"
                        : "failed")} | " +
                    $"{(pass.QuarterWait is { } a ? $"{N(a.AchievedPerSecond)}/s" : "")} | " +
                    $"{(pass.QuarterWait is { } m ? Percent(m.MachineBusy) : "")} |");
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| mean | canvas | {Opt(isolation.CanvasBatchPerSecond, " events/s")} | " +
                    $"{Percent(isolation.CanvasOverRaw)} | p50 {Opt(isolation.CanvasWaitP50)} / p99 " +
                        $"{Opt(isolation.CanvasWaitP99)} ms | | |");
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| mean | none | {Opt(isolation.NoneBatchPerSecond, " events/s")} | " +
                $"{Percent(isolation.NoneOverRaw)} | p50 {Opt(isolation.NoneWaitP50)} / p99 " +
                $"{Opt(isolation.NoneWaitP99)} ms | | |");
        }
        if (r.ColdStart is { } cold)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Cold start (7): {cold.Cold.Count} fresh canvases, " +
                $"each with no runner until its first event, then {cold.WarmEventsPerCanvas} warm events one after " +
                $"another (queue wait: enqueue → the handler's first line):");
            md.AppendLine();
            md.AppendLine("| event | n | p50 | p90 | max |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| first after idle (cold) | {cold.Cold.Count} | " +
                $"{N(cold.Cold.P50)} ms | {N(cold.Cold.P90)} ms | {N(cold.Cold.Max)} ms |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| warm, same canvas right after | {cold.Warm.Count} | " +
                $"{N(cold.Warm.P50)} ms | {N(cold.Warm.P90)} ms | {N(cold.Warm.Max)} ms |");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Warm runner VmRSS after {cold.WarmEventsPerCanvas + 1} " +
                $"events of one small handler: median {N(cold.RunnerRssMedianMb)} MB, max " +
                $"{N(cold.RunnerRssMaxMb)} MB over {cold.RunnerRssMb.Count} runners; the worker service itself: " +
                $"{N(cold.WorkerRssMb)} MB.");
        }
        md.AppendLine();
        md.AppendLine("| budget (issue 13) | budget | measured | pass |");
        md.AppendLine("| --- | --- | --- | --- |");
        foreach (var t in r.RunnerBudget) md.AppendLine(
            CultureInfo.InvariantCulture,
            $"| {t.What} | {t.Goal} | {t.Measured} | {Met(t.Met)} |");
    }

    /// <summary>Issue 24: scenario 9's passes (OS sandbox off, then on) and the budget.</summary>
    private static void WallsSection(StringBuilder md, BenchReport r)
    {
        if (r.Walls is not { } walls || r.WallsBudget is not { Count: > 0 } budget) return;
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"The two walls (issue 24, scenario 9): the worker service restarted with runner processes outside the " +
            $"OS sandbox (`WORKQ_SANDBOX=off`), then inside it (the default); each pass runs scenario 3, the cold " +
            $"starts of scenario 7 and the Http probe (200 sequential GETs of a local server, timed in the handler), " +
            $"which runs once more with `WORKQ_ISOLATION=none` (an ordinary client in the worker service, nothing " +
            $"relayed).");
        md.AppendLine();
        md.AppendLine("| sandbox | batch events/s | cold start p50 / p90 | runner RSS max | Http p50 / p99 |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var p in walls.Passes)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {p.Sandbox} | {N(p.Batch.Run.PerSecond)} | {N(p.ColdStart.Cold.P50)} / {N(p.ColdStart.Cold.P90)} " +
                    $"ms | {N(p.ColdStart.RunnerRssMaxMb)} MB | {N(p.Http.P50)} / {N(p.Http.P99)} ms |");
        md.AppendLine(
            CultureInfo.InvariantCulture,
            $"| (in process) | | | | {N(walls.InProcessHttp.P50)} / {N(walls.InProcessHttp.P99)} ms |");
        md.AppendLine();
        md.AppendLine("| budget (issue 24) | budget | measured | pass |");
        md.AppendLine("| --- | --- | --- | --- |");
        foreach (var t in budget) md.AppendLine(
            CultureInfo.InvariantCulture,
            $"| {t.What} | {t.Goal} | {t.Measured} | {Met(t.Met)} |");
    }

    /// <summary>Issue 14: scenario 3 by worker instance count, against one instance, and where the CPU went.</summary>
    private static void InstancesSection(StringBuilder md, BenchReport r)
    {
        if (r.Instances is not { } instances) return;
        var broker = instances.Broker == BenchOptions.ClusterBroker
            ? $"a {instances.BrokerNodes}-node RabbitMQ cluster in containers on this machine (`--broker " +
                $"{BenchOptions.ClusterBroker}`)"
            : instances.BrokerNodes == 1
                ? "this machine's RabbitMQ, a single node"
                : $"the {instances.BrokerNodes} RabbitMQ nodes in WORKQ_BENCH_RABBITMQ_URL";
        md.AppendLine();
        md.AppendLine("Worker instances (issue 14): batch throughput by instance count");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Scenario 3 ({N(r.Options.WorkqEvents)} events, {r.Options.BatchSize}/request, " +
                $"{r.Options.ParallelBatches} in parallel) with 1 to {r.Options.MaxInstances} worker instances " +
                $"consuming the same queues. Broker: {broker}; nproc {r.Machine.Cores}, shared by the broker, " +
                $"the database, every service and the bench.");
        md.AppendLine();
        md.AppendLine("| instances | batch events/s | vs 1 instance | machine busy |");
        md.AppendLine("| ---: | ---: | ---: | ---: |");
        var one = instances.Passes.FirstOrDefault(p => p.Instances == 1)?.Batch.Run.PerSecond;
        foreach (var pass in instances.Passes)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {pass.Instances} | **{N(pass.Batch.Run.PerSecond)}** | " +
                $"{Percent(one is > 0 ? pass.Batch.Run.PerSecond / one : null)} | " +
                $"{(pass.MachineBusy is { } busy ? Percent(busy) : "n/a (broker not visible)")} |");
        for (
            var n = instances.Passes.Count + 1;
            n <= r.Options.MaxInstances;
            n++) md.AppendLine(CultureInfo.InvariantCulture, $"| {n} | failed | | |");
        if (instances.Passes.MaxBy(p => p.Batch.Cpu.Count) is not { } widest) return;
        // Columns of the run with the most instances: the others lack its extra workers' columns.
        var processes = widest.Batch.Cpu.Select(c => c.Process).ToList();
        md.AppendLine();
        md.AppendLine("CPU per event by instance count (µs of CPU time per event, by process; worker-2 and runners-2 " +
            "are the second instance and its runner processes; rabbitmq is every beam.smp on the machine, or the " +
                "cluster's nodes; postgres counts every backend on the server):");
        md.AppendLine();
        md.AppendLine("| instances | " + string.Join(" | ", processes) + " | total |");
        md.AppendLine("| ---: |" + string.Concat(Enumerable.Repeat(" ---: |", processes.Count + 1)));
        foreach (var pass in instances.Passes)
        {
            var cpu = pass.Batch.Cpu.ToDictionary(c => c.Process, c => c.MicrosPerEvent);
            var cells = string.Join(" | ", processes.Select(p => cpu.TryGetValue(p, out var micros) ? N(micros) : ""));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {pass.Instances} | {cells} | {N(cpu.Values.Sum())} |");
        }
    }

    /// <summary>
    /// Writes bench/results/&lt;date&gt;.json and the same table as &lt;date&gt;.md; returns the JSON path.
    /// </summary>
    public static async Task<string> WriteAsync(
        BenchReport report,
        string markdown,
        CancellationToken cancellationToken)
    {
        var directory = Path.Combine(RepoPaths.Root, report.Options.Results);
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, report.StartedAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await File.WriteAllTextAsync(stem + ".json", JsonSerializer.Serialize(report, Json), cancellationToken);
        await File.WriteAllTextAsync(stem + ".md", markdown, cancellationToken);
        return stem + ".json";
    }

    // 0-based position as the run it was: 0 is the 1st.
    private static string Ordinal(int position) => (position + 1) switch
    {
        var n when n % 100 is 11 or 12 or 13 => $"{n}th",
        var n when n % 10 == 1 => $"{n}st",
        var n when n % 10 == 2 => $"{n}nd",
        var n when n % 10 == 3 => $"{n}rd",
        var n => $"{n}th",
    };

    private static string N(double value) =>
        double.IsNaN(value)
            ? "n/a"
            : value.ToString(Math.Abs(value) >= 100 ? "#,0" : "0.##", CultureInfo.InvariantCulture);

    private static string Met(bool? met) => met switch { true => "yes", false => "**no**", null => "n/a" };

    private static string Opt(double? value, string unit = "") => value is { } v ? N(v) + unit : "n/a";

    private static string Percent(double? ratio)
        => ratio is { } r ? (r * 100).ToString("0", CultureInfo.InvariantCulture) + " %" : "n/a";

    private static string Times(double? ratio)
        => ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a";

    /// <summary>The package version an assembly was built as (its informational version, without the commit).</summary>
    private static string VersionOf(Type type) =>
        (System.Reflection.CustomAttributeExtensions
                .GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(type.Assembly)
                ?.InformationalVersion
            ?? type.Assembly.GetName().Version?.ToString() ?? "?").Split('+')[0];
}
