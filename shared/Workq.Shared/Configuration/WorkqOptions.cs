using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>Settings every service reads from <c>WORKQ_*</c> environment variables (see README).</summary>
public sealed class WorkqOptions
{
    /// <summary>
    /// The token older docs and scripts used for local runs: refused outside Development, like no token at all.
    /// </summary>
    public const string DevelopmentAdminToken = "workq-dev-admin-token";
    public const int MinAdminTokenLength = 16;
    private static readonly string[] BrokerSchemes = ["amqp", "amqps"];
    private static readonly string[] ManagementSchemes = ["http", "https"];

    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; }
    /// <summary>
    /// The broker's AMQP nodes (<c>WORKQ_RABBITMQ_URL</c>: one URI, or one per cluster node separated by commas).
    /// </summary>
    public BrokerNodes RabbitMq { get; init; }
        = BrokerNodes.Parse("amqp://guest:guest@127.0.0.1:5672/", "WORKQ_RABBITMQ_URL", BrokerSchemes);
    /// <summary>The same nodes' management API (<c>WORKQ_RABBITMQ_MANAGEMENT_URL</c>, likewise).</summary>
    public BrokerNodes RabbitMqManagement { get; init; }
        = BrokerNodes.Parse("http://guest:guest@127.0.0.1:15672/", "WORKQ_RABBITMQ_MANAGEMENT_URL", ManagementSchemes);
    public string Postgres { get; init; } = "Host=127.0.0.1;Port=5432;Username=workq;Password=workq;Database=workq";
    public string? AdminToken { get; init; }
    /// <summary>
    /// Control and worker: keep traces in this MongoDB (<c>mongodb://</c> or <c>mongodb+srv://</c>) instead of
    /// PostgreSQL.
    /// </summary>
    public string? TracesMongoDb { get; init; }
    public int MaxEventBytes { get; init; } = 262_144;
    /// <summary>
    /// Worker only: what one run's trace keeps of its result, error and logs together, in UTF-8 bytes (each cut field
    /// marked).
    /// </summary>
    public int MaxTraceBytes { get; init; } = 65_536;
    public TimeSpan HandlerTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// How long a publish waits for the broker's confirm before the emit is answered 503 (a node that does not answer).
    /// </summary>
    public TimeSpan PublishTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public int TracesPerWorker { get; init; } = 10;
    public int MaxEmitDepth { get; init; } = 1_000;
    /// <summary>Emits one handler run may make; the one past it throws.</summary>
    public int MaxEmitsPerEvent { get; init; } = 1_000;
    /// <summary>
    /// Events a worker's queue holds (its <c>x-max-length</c>); an emit past it is refused, never dropped.
    /// </summary>
    public int MaxQueuedPerWorker { get; init; } = 1_000_000;
    /// <summary>
    /// Delayed emits a worker may have waiting for their time (rows in PostgreSQL); one past it is refused with 429.
    /// </summary>
    public int MaxScheduledPerWorker { get; init; } = 100_000;
    /// <summary>Events per canvas the emitter accepts (a token bucket per canvas); null = no limit.</summary>
    public EmitRate? CanvasEmitRate { get; init; }
    public int UnhandledMaxPerWorker { get; init; } = 10_000;
    public int DeadLettersMaxPerWorker { get; init; } = 10_000;
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long the per-minute metrics are kept (and so the longest range at a 60 s step).</summary>
    public TimeSpan MetricsMinuteRetention { get; init; } = TimeSpan.FromHours(48);
    /// <summary>How long the hourly metrics are kept (and so the longest range at a 3600 s step).</summary>
    public TimeSpan MetricsHourRetention { get; init; } = TimeSpan.FromDays(30);
    /// <summary>
    /// Whether events' statuses are written (<c>WORKQ_EVENT_STATUS</c>, on by default; off only to measure what they
    /// cost).
    /// </summary>
    public bool EventStatus { get; init; } = true;
    /// <summary>How long an event's status is kept after its last change (<c>WORKQ_EVENT_STATUS_HOURS</c>).</summary>
    public TimeSpan EventStatusRetention { get; init; } = TimeSpan.FromHours(24);
    /// <summary>Control only: how long one deploy's compile may take before its compiler process is killed.</summary>
    public TimeSpan CompileTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Control only: event status requests that may <c>?wait</c> at once on one control instance; one more is answered
    /// 429.
    /// </summary>
    public int MaxEventWaits { get; init; } = 1_000;
    /// <summary>Control only: the largest handler code accepted, in UTF-8 bytes.</summary>
    public int MaxCodeBytes { get; init; } = 65_536;
    /// <summary>Control only: compiler processes, so compiles running at once.</summary>
    public int MaxConcurrentCompiles { get; init; } = 2;
    /// <summary>Control only: each compiler process's GC heap limit.</summary>
    public int CompilerHeapMegabytes { get; init; } = 512;
    /// <summary>The canvases a worker instance consumes (a pool); every canvas by default.</summary>
    public CanvasFilter Canvases { get; init; } = CanvasFilter.All;
    /// <summary>
    /// Where handler code's <c>Http</c> may connect beyond the public internet (WORKQ_HANDLER_HTTP_ALLOW).
    /// </summary>
    public Handlers.Scripting.EgressPolicy HandlerEgress { get; init; } = Handlers.Scripting.EgressPolicy.Default;

    /// <summary>
    /// Worker only: <c>canvas</c> runs each canvas's handlers in a runner process of its own; <c>none</c> runs them in
    /// the worker service.
    /// </summary>
    public HandlerIsolation Isolation { get; init; } = HandlerIsolation.Canvas;
    /// <summary>Worker only: a runner with no runs for this long is stopped.</summary>
    public TimeSpan RunnerIdle { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Worker only: each runner's GC heap limit.</summary>
    public int RunnerMemoryMegabytes { get; init; } = 256;
    /// <summary>Worker only: each runner's thread-pool cap.</summary>
    public int RunnerThreads { get; init; } = 64;
    /// <summary>Worker only: each runner's CPU quota in cores, where a cgroup is writable.</summary>
    public double RunnerCpus { get; init; } = 1;
    /// <summary>Worker only: the largest request or response body of a handler's <c>Http</c>.</summary>
    public int HandlerHttpMaxBytes { get; init; } = 10 * 1024 * 1024;
    /// <summary>
    /// Worker only: how many <c>Http</c> requests one runner (a canvas) may have in flight; more wait in the runner.
    /// </summary>
    public int HandlerHttpConcurrency { get; init; } = 8;
    /// <summary>
    /// Worker only: each runner's tasks (threads and processes) at once, where a cgroup is writable: the thread pool's
    /// <see cref="RunnerThreads"/> and the runtime's own threads fit with room to spare, a thread bomb does not.
    /// </summary>
    public int RunnerPids { get; init; } = 256;
    /// <summary>Worker only: the OS sandbox around every runner process (<c>WORKQ_SANDBOX</c>).</summary>
    public RunnerSandboxMode Sandbox { get; init; } = RunnerSandboxMode.Namespaces;

    public static WorkqOptions From(IConfiguration config, int defaultPort)
    {
        var defaults = new WorkqOptions();
        return new WorkqOptions
        {
            Host = config["WORKQ_HOST"] ?? defaults.Host,
            Port = Int(config, "WORKQ_PORT", defaultPort),
            RabbitMq = config["WORKQ_RABBITMQ_URL"] is { } amqp
                ? BrokerNodes.Parse(amqp, "WORKQ_RABBITMQ_URL", BrokerSchemes)
                : defaults.RabbitMq,
            RabbitMqManagement = config["WORKQ_RABBITMQ_MANAGEMENT_URL"] is { } management
                ? BrokerNodes.Parse(management, "WORKQ_RABBITMQ_MANAGEMENT_URL", ManagementSchemes)
                : defaults.RabbitMqManagement,
            Postgres = config["WORKQ_POSTGRES"] ?? defaults.Postgres,
            AdminToken = string.IsNullOrEmpty(config["WORKQ_ADMIN_TOKEN"]) ? null : config["WORKQ_ADMIN_TOKEN"],
            TracesMongoDb = MongoDbUrl(config["WORKQ_TRACES_MONGODB"]),
            MaxEventBytes = Int(config, "WORKQ_MAX_EVENT_BYTES", defaults.MaxEventBytes),
            MaxTraceBytes = Int(config, "WORKQ_MAX_TRACE_BYTES", defaults.MaxTraceBytes),
            HandlerTimeout = TimeSpan.FromSeconds(
                Double(config, "WORKQ_HANDLER_TIMEOUT_SECONDS", defaults.HandlerTimeout.TotalSeconds)),
            PublishTimeout = TimeSpan.FromSeconds(
                Double(config, "WORKQ_PUBLISH_TIMEOUT_SECONDS", defaults.PublishTimeout.TotalSeconds)),
            TracesPerWorker = Int(config, "WORKQ_TRACES_PER_WORKER", defaults.TracesPerWorker),
            MaxEmitDepth = Int(config, "WORKQ_MAX_EMIT_DEPTH", defaults.MaxEmitDepth),
            MaxEmitsPerEvent = Int(config, "WORKQ_MAX_EMITS_PER_EVENT", defaults.MaxEmitsPerEvent),
            MaxQueuedPerWorker = Int(config, "WORKQ_MAX_QUEUED_PER_WORKER", defaults.MaxQueuedPerWorker),
            MaxScheduledPerWorker = Int(config, "WORKQ_MAX_SCHEDULED_PER_WORKER", defaults.MaxScheduledPerWorker),
            CanvasEmitRate = EmitRate.Parse(config["WORKQ_CANVAS_EMIT_RATE"]),
            UnhandledMaxPerWorker = Int(config, "WORKQ_UNHANDLED_MAX_PER_WORKER", defaults.UnhandledMaxPerWorker),
            DeadLettersMaxPerWorker = Int(
                config,
                "WORKQ_DEAD_LETTERS_MAX_PER_WORKER",
                defaults.DeadLettersMaxPerWorker),
            ReconcileInterval = TimeSpan.FromSeconds(
                Double(config, "WORKQ_RECONCILE_SECONDS", defaults.ReconcileInterval.TotalSeconds)),
            MetricsMinuteRetention = TimeSpan.FromHours(
                Int(config, "WORKQ_METRICS_MINUTE_RETENTION_HOURS", (int)defaults.MetricsMinuteRetention.TotalHours)),
            MetricsHourRetention = TimeSpan.FromDays(
                Int(config, "WORKQ_METRICS_HOUR_RETENTION_DAYS", (int)defaults.MetricsHourRetention.TotalDays)),
            EventStatus = config["WORKQ_EVENT_STATUS"] switch
            {
                null or "" or "on" => true,
                "off" => false,
                var other => throw new InvalidOperationException(
                    $"WORKQ_EVENT_STATUS must be 'on' or 'off', not '{other}'."),
            },
            EventStatusRetention = TimeSpan.FromHours(
                Int(config, "WORKQ_EVENT_STATUS_HOURS", (int)defaults.EventStatusRetention.TotalHours)),
            CompileTimeout = TimeSpan.FromSeconds(
                Double(config, "WORKQ_COMPILE_TIMEOUT_SECONDS", defaults.CompileTimeout.TotalSeconds)),
            MaxCodeBytes = Int(config, "WORKQ_MAX_CODE_BYTES", defaults.MaxCodeBytes),
            MaxEventWaits = Int(config, "WORKQ_MAX_EVENT_WAITS", defaults.MaxEventWaits),
            MaxConcurrentCompiles = Int(config, "WORKQ_MAX_CONCURRENT_COMPILES", defaults.MaxConcurrentCompiles),
            CompilerHeapMegabytes = Int(config, "WORKQ_COMPILER_HEAP_MB", defaults.CompilerHeapMegabytes),
            Canvases = CanvasFilter.Parse(config["WORKQ_CANVASES"]),
            HandlerEgress = Handlers.Scripting.EgressPolicy.Parse(config[Handlers.Scripting.EgressPolicy.AllowVariable]),
            Isolation = config["WORKQ_ISOLATION"] switch
            {
                null or "" or "canvas" => HandlerIsolation.Canvas,
                "none" => HandlerIsolation.None,
                var other => throw new InvalidOperationException($"WORKQ_ISOLATION must be 'canvas' (a runner process per canvas) or 'none' (in the worker service), not '{other}'."),
            },
            RunnerIdle = TimeSpan.FromSeconds(
                Double(config, "WORKQ_RUNNER_IDLE_SECONDS", defaults.RunnerIdle.TotalSeconds)),
            RunnerMemoryMegabytes = Int(config, "WORKQ_RUNNER_MEMORY_MB", defaults.RunnerMemoryMegabytes),
            RunnerThreads = Int(config, "WORKQ_RUNNER_THREADS", defaults.RunnerThreads),
            RunnerCpus = Double(config, "WORKQ_RUNNER_CPUS", defaults.RunnerCpus, "cores"),
            HandlerHttpMaxBytes = Int(config, "WORKQ_HANDLER_HTTP_MAX_BYTES", defaults.HandlerHttpMaxBytes),
            HandlerHttpConcurrency = Int(config, "WORKQ_HANDLER_HTTP_CONCURRENCY", defaults.HandlerHttpConcurrency),
            RunnerPids = Int(config, "WORKQ_RUNNER_PIDS", defaults.RunnerPids),
            Sandbox = config["WORKQ_SANDBOX"] switch
            {
                null or "" or "namespaces" or "on" => RunnerSandboxMode.Namespaces,
                "off" => RunnerSandboxMode.Off,
                var other => throw new InvalidOperationException(
                    $"WORKQ_SANDBOX must be 'namespaces' (bubblewrap and seccomp around every runner process; 'on' too) or 'off', not '{other}'."),
            },
        };
    }

    /// <summary>Why this admin token must not guard a deployment outside Development, or null when it may.</summary>
    public string? AdminTokenProblem() => AdminToken switch
    {
        null => "WORKQ_ADMIN_TOKEN is not set: set it to a long random secret (ASPNETCORE_ENVIRONMENT=Development allows running without one).",
        DevelopmentAdminToken => $"WORKQ_ADMIN_TOKEN is the well-known development token '{DevelopmentAdminToken}': set it to a long random secret.",
        { Length: < MinAdminTokenLength } => $"WORKQ_ADMIN_TOKEN is shorter than {MinAdminTokenLength} characters: set it to a long random secret.",
        _ => null,
    };

    private static string? MongoDbUrl(string? raw) => raw switch
    {
        null or "" => null,
        _ when raw.StartsWith("mongodb://", StringComparison.Ordinal)
            || raw.StartsWith("mongodb+srv://", StringComparison.Ordinal) => raw,
        _ => throw new InvalidOperationException("WORKQ_TRACES_MONGODB must be a MongoDB URL (mongodb://host:27017/workq), or unset to keep traces in PostgreSQL."),
    };

    // Numbers are read under their name or the old name it replaced (RenamedSetting), and an error names the one set.
    private static int Int(IConfiguration config, string key, int fallback) =>
        RenamedSetting.Read(config, key) is (var name, { } raw)
            ? int.TryParse(raw, out var value) && value > 0
                ? value
                : throw new InvalidOperationException($"{name} must be a positive whole number, not '{raw}'.")
            : fallback;

    private static double Double(IConfiguration config, string key, double fallback, string unit = "seconds") =>
        RenamedSetting.Read(config, key) is (var name, { } raw)
            ? double.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new InvalidOperationException($"{name} must be a positive number of {unit}, not '{raw}'.")
            : fallback;
}

/// <summary>Where handler code runs (<c>WORKQ_ISOLATION</c>).</summary>
public enum HandlerIsolation { Canvas, None }

/// <summary>
/// The OS sandbox around runner processes (<c>WORKQ_SANDBOX</c>): namespaces and seccomp, or none (cgroups apply either
/// way).
/// </summary>
public enum RunnerSandboxMode { Namespaces, Off }
