using Npgsql;

namespace Workq.Bench.Infrastructure;

/// <summary>
/// A private place on the machine's RabbitMQ and PostgreSQL for one bench run: a fresh virtual host and
/// database (so nothing of ./run.sh or the tests is touched), and, once started, the four services on it.
/// The servers' administrator makes and removes both; the services get only their own narrower user.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private static readonly string Suffix = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(90);

    public static string PostgresAdmin => LocalServers.PostgresAdmin("WORKQ_BENCH_POSTGRES_ADMIN");
    public static string ServicePostgres => LocalServers.Postgres("WORKQ_BENCH_POSTGRES", "WORKQ_BENCH_POSTGRES_ADMIN");
    /// <summary>
    /// This machine's RabbitMQ, or every node of a cluster when the variables list several (comma-separated).
    /// </summary>
    public static TestBroker Broker { get; set; } =
        TestBroker.FromEnvironment(
            "WORKQ_BENCH_RABBITMQ_URL",
            "WORKQ_BENCH_RABBITMQ_MANAGEMENT_URL",
            "WORKQ_BENCH_RABBITMQ_ADMIN");
    /// <summary>
    /// The ids of the containers the broker's nodes run in (<c>--broker cluster</c>), so the CPU meter counts those
    /// nodes and not this machine's own RabbitMQ; null: every beam.smp on the machine is the broker.
    /// </summary>
    public static IReadOnlyList<string>? BrokerContainers { get; set; }

    public string AdminToken { get; } = "bench-admin-" + Guid.NewGuid().ToString("N");
    public string VirtualHost { get; } = "workq-bench-" + Suffix;
    public string Database { get; } = "workq_bench_" + Suffix;
    public string LogDirectory { get; } = Path.Combine(Path.GetTempPath(), "workq-bench-logs", Suffix);
    public string AmqpUrl => Broker.AmqpUrl(VirtualHost);

    /// <summary>
    /// Generous time-outs: deleting a virtual host with a thousand quorum queues takes the broker a while.
    /// </summary>
    private readonly RabbitManagement management = new(Broker.AdminManagementUrl, TimeSpan.FromMinutes(5));
    private string postgres = "";

    public ServiceProcess? Control { get; private set; }
    public ServiceProcess? Emitter { get; private set; }
    public ServiceProcess? Dispatcher { get; private set; }
    /// <summary>
    /// The first worker instance: the one every scenario but 8 runs with, and the one <see cref="RestartWorkerAsync"/>
    /// restarts.
    /// </summary>
    public ServiceProcess? Worker { get; private set; }
    /// <summary>
    /// Every worker instance: <see cref="Worker"/>, then those <see cref="StartWorkersAsync"/> added (worker-2,
    /// worker-3...).
    /// </summary>
    public IReadOnlyList<ServiceProcess> Workers => [.. new[] { Worker }.OfType<ServiceProcess>(), .. extraWorkers];
    public IEnumerable<ServiceProcess> Services
        => new[] { Control, Emitter, Dispatcher }.OfType<ServiceProcess>().Concat(Workers);
    /// <summary>
    /// The running worker service's <c>WORKQ_ISOLATION</c>: <c>canvas</c> (runner processes, the default) or
    /// <c>none</c>.
    /// </summary>
    public string Isolation { get; private set; } = "canvas";

    private Dictionary<string, string> environment = [];
    private int workerStarts;
    private readonly List<ServiceProcess> extraWorkers = [];

    public async Task CreateAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(LogDirectory);
        await management.CreateVirtualHostAsync(VirtualHost, Broker.ServiceUser, cancellationToken);
        postgres = await ServiceDatabase.CreateAsync(PostgresAdmin, ServicePostgres, Database, cancellationToken);
    }

    /// <summary>
    /// Starts the four services in Release on free ports, as production would run them, and waits until each is ready.
    /// </summary>
    public async Task StartServicesAsync(HttpClient http, CancellationToken cancellationToken)
    {
        environment = new Dictionary<string, string>
        {
            ["WORKQ_RABBITMQ_URL"] = AmqpUrl,
            ["WORKQ_RABBITMQ_MANAGEMENT_URL"] = Broker.ManagementUrl,
            ["WORKQ_POSTGRES"] = postgres,
            ["WORKQ_ADMIN_TOKEN"] = AdminToken,
            // The queue-wait sink listens there (WaitSink); handler code may reach nothing else on loopback.
            ["WORKQ_HANDLER_HTTP_ALLOW"] = "127.0.0.2/32",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
            ["WORKQ_ISOLATION"] = Isolation,
        };
        Control = ServiceProcess.Start("Control", "Control", environment, LogDirectory);
        Emitter = ServiceProcess.Start("Emitter", "Emitter", environment, LogDirectory);
        Dispatcher = ServiceProcess.Start("Dispatcher", "Dispatcher", environment, LogDirectory);
        Worker = ServiceProcess.Start("Worker", "Worker", environment, LogDirectory);
        await Task.WhenAll(Services.Select(s => s.WaitReadyAsync(http, StartPatience, cancellationToken)));
    }

    /// <summary>
    /// Stops the worker service (its runners with it; unacked events go back to their queues) and starts it again with
    /// <c>WORKQ_ISOLATION=<paramref name="isolation"/></c>, the other services untouched, so both modes run on one set
    /// of servers.
    /// </summary>
    public async Task RestartWorkerAsync(
        string isolation,
        HttpClient http,
        CancellationToken cancellationToken,
        string? sandbox = null)
    {
        if (Worker is { } old) await old.DisposeAsync();
        Isolation = isolation;
        environment["WORKQ_ISOLATION"] = isolation;
        if (sandbox is null) environment.Remove("WORKQ_SANDBOX");
        else environment["WORKQ_SANDBOX"] = sandbox;
        Worker = ServiceProcess.Start(
            "Worker",
            "Worker",
            environment,
            LogDirectory,
            $"worker-{++workerStarts}-{isolation}");
        await Worker.WaitReadyAsync(http, StartPatience, cancellationToken);
    }

    /// <summary>
    /// Restarts the two services that write a status for every event, the emitter (on its port) and the worker, with
    /// <c>WORKQ_EVENT_STATUS</c> on or off: the <c>status</c> pass measures what statuses cost.
    /// </summary>
    public async Task RestartWithEventStatusAsync(bool on, HttpClient http, CancellationToken cancellationToken)
    {
        environment["WORKQ_EVENT_STATUS"] = on ? "on" : "off";
        if (Emitter is { } old)
        {
            await old.DisposeAsync();
            Emitter = ServiceProcess.Start(
                "Emitter",
                "Emitter",
                environment,
                LogDirectory,
                $"emitter-status-{(on ? "on" : "off")}",
                old.Port);
            await Emitter.WaitReadyAsync(http, StartPatience, cancellationToken);
        }
        await RestartWorkerAsync(Isolation, http, cancellationToken);
    }

    /// <summary>
    /// Starts more worker instances, with the first one's environment, until <paramref name="count"/> run, and waits
    /// until each is ready. They consume the same queues as the first; they run until the cluster is disposed.
    /// </summary>
    public async Task StartWorkersAsync(int count, HttpClient http, CancellationToken cancellationToken)
    {
        if (Worker is null) throw new InvalidOperationException("The services are not running.");
        var started = new List<ServiceProcess>();
        for (var n = Workers.Count + 1; n <= count; n++)
        {
            var instance = ServiceProcess.Start("Worker", $"Worker-{n}", environment, LogDirectory);
            extraWorkers.Add(instance);
            started.Add(instance);
        }
        await Task.WhenAll(started.Select(s => s.WaitReadyAsync(http, StartPatience, cancellationToken)));
    }

    /// <summary>Consumer count of every queue of the run's virtual host, by name, from the management API.</summary>
    public Task<IReadOnlyDictionary<string, int>> QueueConsumersAsync(CancellationToken cancellationToken) =>
        management.ConsumersAsync(VirtualHost, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (var service in Services) await service.DisposeAsync();
        try
        {
            await ServiceDatabase.DropAsync(PostgresAdmin, Database);
            await management.DeleteVirtualHostAsync(VirtualHost);
        }
        catch (Exception e) when (e is HttpRequestException or NpgsqlException or OperationCanceledException)
        {
            Console.Error.WriteLine($"[bench] cleanup of {VirtualHost} / {Database} failed: {e.Message}");
        }
        management.Dispose();
    }
}
