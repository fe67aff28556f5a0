namespace Workq.Bench;

/// <summary>
/// What to run and how much. Every setting is a flag (<c>--raw-messages 20000</c>) or an environment
/// variable (<c>WORKQ_BENCH_RAW_MESSAGES=20000</c>); flags win. <c>--quick</c> divides the counts by ten.
/// </summary>
public sealed record BenchOptions
{
    public int RawMessages { get; init; } = 200_000;
    public int MassTransitMessages { get; init; } = 60_000;
    public int WorkqEvents { get; init; } = 150_000;
    /// <summary>Scenario 10's batch: this many events, added 1,000 at a time.</summary>
    public int BigBatchEvents { get; init; } = 100_000;
    public int BatchSize { get; init; } = 500;
    public int ParallelBatches { get; init; } = 4;
    /// <summary>
    /// One prefetch for all three consumers (raw, MassTransit, and the Workq worker's concurrency), so they compete on
    /// equal terms.
    /// </summary>
    public int Prefetch { get; init; } = 100;
    public int EventBytes { get; init; } = 200;
    public int SingleClients { get; init; } = 64;
    public int SingleSeconds { get; init; } = 15;
    public int WaitSeconds { get; init; } = 20;
    /// <summary>Events/s for the queue-wait scenario; 0 = half of scenario 3's rate.</summary>
    public int WaitRate { get; init; }
    public int ScaleCanvases { get; init; } = 100;
    public int ScaleWorkers { get; init; } = 1_000;
    public int ScaleBigCanvasWorkers { get; init; } = 100;
    public int ScaleEvents { get; init; } = 50_000;
    public int DeployParallelism { get; init; } = 4;
    public int ListRequests { get; init; } = 50;
    /// <summary>Fresh canvases whose first event is measured (scenario 7), one more run unmeasured first.</summary>
    public int ColdStarts { get; init; } = 10;
    /// <summary>Scenario 8 (issue 14) runs scenario 3 with 1, 2, ... up to this many worker instances.</summary>
    public int MaxInstances { get; init; } = 3;
    /// <summary>
    /// <c>local</c>: the broker in WORKQ_BENCH_RABBITMQ_URL (this machine's); <c>cluster</c>: a <see
    /// cref="ClusterNodes"/>-node cluster in containers, started for the run.
    /// </summary>
    public string Broker { get; init; } = "local";
    /// <summary>
    /// Scenario 8 (<c>instances</c>), the event-status pass (<c>status</c>, after <c>batch</c>) and the raw client's
    /// queue wait alone (<c>rawwait</c>: at --wait-rate for --wait-seconds, to watch the broker's own stalls over a
    /// long run) are not in the default list: opt in with <c>--only</c>.
    /// </summary>
    public string Only { get; init; } =
        "raw,masstransit,batch,batches,durable,priorities,single,wait,scale,coldstart,isolation,walls";
    public string Results { get; init; } = "bench/results";

    public const string ClusterBroker = "cluster";
    public const int ClusterNodes = 3;

    public bool Runs(string scenario)
        => Only.Split(',', StringSplitOptions.TrimEntries).Contains(scenario, StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<string, Func<BenchOptions, string, BenchOptions>> Settings = new(
        StringComparer.OrdinalIgnoreCase)
    {
        ["raw-messages"] = (o, v) => o with { RawMessages = Int(v) },
        ["masstransit-messages"] = (o, v) => o with { MassTransitMessages = Int(v) },
        ["workq-events"] = (o, v) => o with { WorkqEvents = Int(v) },
        ["big-batch-events"] = (o, v) => o with { BigBatchEvents = Int(v) },
        ["batch-size"] = (o, v) => o with { BatchSize = Math.Min(Int(v), 1_000) },
        ["parallel-batches"] = (o, v) => o with { ParallelBatches = Int(v) },
        ["prefetch"] = (o, v) => o with { Prefetch = Int(v) },
        ["event-bytes"] = (o, v) => o with { EventBytes = Math.Max(Int(v), 32) },
        ["single-clients"] = (o, v) => o with { SingleClients = Int(v) },
        ["single-seconds"] = (o, v) => o with { SingleSeconds = Int(v) },
        ["wait-seconds"] = (o, v) => o with { WaitSeconds = Int(v) },
        ["wait-rate"] = (o, v) => o with { WaitRate = Int(v) },
        ["scale-canvases"] = (o, v) => o with { ScaleCanvases = Int(v) },
        ["scale-workers"] = (o, v) => o with { ScaleWorkers = Int(v) },
        ["scale-big-canvas-workers"] = (o, v) => o with { ScaleBigCanvasWorkers = Int(v) },
        ["scale-events"] = (o, v) => o with { ScaleEvents = Int(v) },
        ["deploy-parallelism"] = (o, v) => o with { DeployParallelism = Int(v) },
        ["list-requests"] = (o, v) => o with { ListRequests = Int(v) },
        ["cold-starts"] = (o, v) => o with { ColdStarts = Int(v) },
        ["max-instances"] = (o, v) => o with { MaxInstances = Int(v) },
        ["broker"] = (o, v) => o with
        {
            Broker = v.ToLowerInvariant() is "local" or ClusterBroker
            ? v.ToLowerInvariant()
            : throw Usage($"--broker is local or {ClusterBroker}, not '{v}'")
        },
        ["only"] = (o, v) => o with { Only = v },
        ["results"] = (o, v) => o with { Results = v },
    };

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        foreach (var (name, apply) in Settings)
        {
            var variable = "WORKQ_BENCH_" + name.Replace('-', '_').ToUpperInvariant();
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value) options = apply(options, value);
        }
        var quick = Environment.GetEnvironmentVariable("WORKQ_BENCH_QUICK") is "1" or "true";
        for (var i = 0; i < args.Length; i++)
        {
            var flag = args[i].StartsWith("--", StringComparison.Ordinal)
                ? args[i][2..]
                : throw Usage($"unexpected argument '{args[i]}'");
            if (flag == "quick") quick = true;
            else if (Settings.TryGetValue(flag, out var apply)
                && i + 1 < args.Length) options = apply(options, args[++i]);
            else throw Usage($"unknown flag or missing value: --{flag}");
        }
        return quick ? options.Quick() : options;
    }

    /// <summary>A smoke run: a tenth of the work, for checking the tool rather than measuring.</summary>
    private BenchOptions Quick() => this with
    {
        RawMessages = RawMessages / 10,
        MassTransitMessages = MassTransitMessages / 10,
        WorkqEvents = WorkqEvents / 10,
        SingleSeconds = Math.Max(3, SingleSeconds / 5),
        WaitSeconds = Math.Max(3, WaitSeconds / 5),
        ScaleCanvases = Math.Max(2, ScaleCanvases / 10),
        ScaleWorkers = Math.Max(ScaleBigCanvasWorkers / 10 + 1, ScaleWorkers / 10),
        ScaleBigCanvasWorkers = Math.Max(1, ScaleBigCanvasWorkers / 10),
        ScaleEvents = ScaleEvents / 10,
        ListRequests = Math.Max(5, ListRequests / 5),
        ColdStarts = Math.Max(3, ColdStarts / 3),
    };

    private static int Int(string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw Usage($"'{value}' is not a positive whole number");

    private static ArgumentException Usage(string problem) =>
        new($"{problem}. Flags: --quick, {string.Join(", ", Settings.Keys.Select(k => "--" + k + " N"))}");
}
