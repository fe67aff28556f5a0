using Npgsql;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Tests.Infrastructure;

/// <summary>
/// A whole Workq on the real RabbitMQ and PostgreSQL that ./test.sh starts: its own virtual host and
/// database (so runs never see each other's queues or rows), and the four services as processes.
/// More worker instances can be started and killed. The servers' administrator makes and removes the
/// virtual host and the database; the services get only their own narrower user, as in production.
/// </summary>
public sealed class WorkqCluster : IAsyncLifetime
{
    // Per cluster: a test run may start more than one (the observability tests have their own).
    private readonly string suffix = Guid.NewGuid().ToString("N")[..10];

    public string AdminToken { get; } = "test-admin-" + Guid.NewGuid().ToString("N");
    public string VirtualHost => "workq-test-" + suffix;
    public string Database => "workq_test_" + suffix;
    public string LogDirectory => Path.Combine(Path.GetTempPath(), "workq-test-logs", suffix);

    /// <summary>The servers' admin role, on the "postgres" database: makes and drops each cluster's database.</summary>
    public static string PostgresAdmin => LocalServers.PostgresAdmin("WORKQ_TEST_POSTGRES_ADMIN");
    /// <summary>The services' role, which owns each cluster's database.</summary>
    public static string ServicePostgres => LocalServers.Postgres("WORKQ_TEST_POSTGRES", "WORKQ_TEST_POSTGRES_ADMIN");
    /// <summary>This machine's management API as the services have it.</summary>
    public static string ManagementUrl => LocalServers.ManagementUrl("WORKQ_TEST_RABBITMQ_MANAGEMENT_URL");

    /// <summary>This machine's RabbitMQ unless a fixture gives a cluster's nodes.</summary>
    public TestBroker Broker { get; init; } = TestBroker.FromEnvironment(
        "WORKQ_TEST_RABBITMQ_URL",
        "WORKQ_TEST_RABBITMQ_MANAGEMENT_URL",
        "WORKQ_TEST_RABBITMQ_ADMIN");

    /// <summary>The cluster's database as the services reach it (<c>WORKQ_POSTGRES</c>).</summary>
    public string Postgres
        => new NpgsqlConnectionStringBuilder(ServicePostgres) { Database = Database }.ConnectionString;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    private RabbitManagement? rabbit;
    /// <summary>
    /// The broker as its administrator: for what tests check on it, or do to it, beyond what the services may.
    /// </summary>
    public RabbitManagement Rabbit => rabbit ??= new(Broker.AdminManagementUrl);

    public ServiceProcess Control { get; private set; } = null!;
    public ServiceProcess Emitter { get; private set; } = null!;
    public ServiceProcess Dispatcher { get; private set; } = null!;
    public List<ServiceProcess> Workers { get; } = [];
    public List<ServiceProcess> ExtraDispatchers { get; } = [];

    public const string TestSinkAddress = "127.0.0.2";

    /// <summary>
    /// Short enough that time-out tests finish quickly; long enough that a handler making a few requests is not timed
    /// out on a two-core machine the whole suite keeps busy (3 s was, twice, in rehearsals).
    /// </summary>
    public static readonly TimeSpan HandlerTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan PriorityAging = TimeSpan.FromSeconds(3);

    /// <summary>Set by fixtures that need more than the defaults in every service (telemetry export, say).</summary>
    public IReadOnlyDictionary<string, string> ExtraEnvironment { get; init; } = new Dictionary<string, string>();

    public Dictionary<string, string> ServiceEnvironment => new(ExtraEnvironment.Concat(BaseEnvironment));

    private Dictionary<string, string> BaseEnvironment => new()
    {
        ["WORKQ_RABBITMQ_URL"] = Broker.AmqpUrl(VirtualHost),
        ["WORKQ_RABBITMQ_MANAGEMENT_URL"] = Broker.ManagementUrl,
        ["WORKQ_POSTGRES"] = Postgres,
        ["WORKQ_ADMIN_TOKEN"] = AdminToken,
        ["WORKQ_HANDLER_TIMEOUT_SECONDS"] = HandlerTimeout.TotalSeconds
            .ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["WORKQ_RECONCILE_INTERVAL_SECONDS"] = "5",
        // Low enough for the aging test to see a low event age (PriorityTests); only low events are affected.
        ["WORKQ_PRIORITY_AGING_SECONDS"] = PriorityAging.TotalSeconds
            .ToString(System.Globalization.CultureInfo.InvariantCulture),
        // The tests' own sinks listen here (LocalServer); the rest of loopback stays refused to handlers.
        ["WORKQ_HANDLER_HTTP_ALLOW"] = TestSinkAddress + "/32",
        ["Logging__LogLevel__Default"] = "Information",
        ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
    };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(LogDirectory);
        await Rabbit.CreateVirtualHostAsync(VirtualHost, Broker.ServiceUser);
        await ServiceDatabase.CreateAsync(PostgresAdmin, ServicePostgres, Database);
        var environment = ServiceEnvironment;
        Control = ServiceProcess.Start("Control", "control", environment, LogDirectory);
        Emitter = ServiceProcess.Start("Emitter", "emitter", environment, LogDirectory);
        Dispatcher = ServiceProcess.Start("Dispatcher", "dispatcher", environment, LogDirectory);
        await Task.WhenAll(
            Control.WaitReadyAsync(Http, TimeSpan.FromSeconds(90)),
            Emitter.WaitReadyAsync(Http, TimeSpan.FromSeconds(90)),
            Dispatcher.WaitReadyAsync(Http, TimeSpan.FromSeconds(90)));
        await StartWorkerAsync();
    }

    public async Task<ServiceProcess> StartWorkerAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var merged = ServiceEnvironment;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) merged[key] = value;
        var worker = ServiceProcess.Start("Worker", $"worker-{Workers.Count + 1}", merged, LogDirectory);
        Workers.Add(worker);
        await worker.WaitReadyAsync(Http, TimeSpan.FromSeconds(90));
        return worker;
    }

    /// <summary>
    /// Leaves exactly one live worker instance (stopping extras gracefully, or starting one), for tests
    /// whose assertions hold per instance, such as run order at concurrency 1.
    /// </summary>
    public async Task UseOneWorkerInstanceAsync()
    {
        foreach (var extra in Workers.Where(w => !w.HasExited).Skip(1).ToList()) await extra.StopAsync(
            TimeSpan.FromSeconds(20));
        if (Workers.All(w => w.HasExited)) await StartWorkerAsync();
    }

    /// <summary>
    /// SIGKILL of the emitter, the dispatcher and every worker instance at once, then all started again (new ports, the
    /// same database and broker; the workers with <paramref name="workerEnvironment"/>): what an event that got its 202
    /// must survive.
    /// </summary>
    public async Task KillAndRestartDataPathAsync(IReadOnlyDictionary<string, string>? workerEnvironment = null)
    {
        foreach (var service in Workers.Where(w => !w.HasExited).Append(Dispatcher).Append(Emitter)) service.Kill();
        var instances = Workers.Count;
        Workers.Clear();
        var environment = ServiceEnvironment;
        Emitter = ServiceProcess.Start("Emitter", "emitter", environment, LogDirectory, "emitter-restarted");
        Dispatcher = ServiceProcess.Start(
            "Dispatcher",
            "dispatcher",
            environment,
            LogDirectory,
            "dispatcher-restarted");
        await Task.WhenAll(
            Emitter.WaitReadyAsync(Http, TimeSpan.FromSeconds(90)),
            Dispatcher.WaitReadyAsync(Http, TimeSpan.FromSeconds(90)));
        for (var i = 0; i < Math.Max(1, instances); i++) await StartWorkerAsync(workerEnvironment);
    }

    /// <summary>Another dispatcher instance, as a scaled-out deployment runs them.</summary>
    public async Task<ServiceProcess> StartDispatcherAsync()
    {
        var dispatcher = ServiceProcess.Start(
            "Dispatcher",
            $"dispatcher-{ExtraDispatchers.Count + 2}",
            ServiceEnvironment,
            LogDirectory);
        ExtraDispatchers.Add(dispatcher);
        await dispatcher.WaitReadyAsync(Http, TimeSpan.FromSeconds(90));
        return dispatcher;
    }

    public async Task DisposeAsync()
    {
        foreach (var service in Workers.Concat(ExtraDispatchers).Append(Dispatcher).Append(Emitter).Append(Control)
            .Where(s => s is not null))
            await service.DisposeAsync();
        try
        {
            await Rabbit.DeleteVirtualHostAsync(VirtualHost);
            await ServiceDatabase.DropAsync(PostgresAdmin, Database);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"Cleanup of the test cluster failed: {e.Message}");
        }
        Http.Dispose();
        rabbit?.Dispose();
    }

    /// <summary>The last lines of every service's log, for a failing test's message.</summary>
    public string Logs() => string.Join("\n", Workers.Concat(ExtraDispatchers).Append(Dispatcher).Append(Emitter)
        .Append(Control)
        .Select(s => $"--- {s.Name}\n{s.Tail(25)}"));

    // ---- API helpers ----

    public Uri ControlUrl(string path) => new(Control.Url, path.TrimStart('/'));
    public Uri EmitUrl(string path) => new(Emitter.Url, path.TrimStart('/'));

    public async Task<HttpResponseMessage> SendAsync(
        HttpMethod method,
        Uri url,
        string? token,
        string? body = null,
        string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await Http.SendAsync(request);
    }

    public async Task<JsonNode?> JsonAsync(
        HttpMethod method,
        Uri url,
        string? token,
        string? body = null,
        int expect = 200)
    {
        using var response = await SendAsync(method, url, token, body);
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != expect)
            throw new Xunit.Sdk.XunitException(
                $"{method} {url} answered {(int)response.StatusCode}, expected {expect}: {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>A fresh canvas for one test: its name and token.</summary>
    public async Task<(string Name, string Token)> CreateCanvasAsync(string prefix = "c")
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 64)];
        var created = await JsonAsync(
            HttpMethod.Post,
            ControlUrl("/v1/canvases"),
            AdminToken,
            $$"""{"name":"{{name}}"}""",
            expect: 201);
        return (name, created!["token"]!.GetValue<string>());
    }

    public Task<JsonNode?> DeployAsync(
        string canvas,
        string worker,
        string code,
        int? concurrency = null,
        string? token = null,
        int expect = 201) =>
        JsonAsync(HttpMethod.Put, ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"), token ?? AdminToken,
            new JsonObject { ["code"] = code, ["concurrency"] = concurrency }.ToJsonString(), expect);

    public async Task<Guid> EmitAsync(string canvas, string worker, string eventJson, string? token = null)
    {
        var accepted = await JsonAsync(
            HttpMethod.Post,
            EmitUrl($"/v1/canvases/{canvas}/workers/{worker}/events"),
            token ?? AdminToken,
            eventJson,
            expect: 202);
        return Guid.Parse(accepted!["id"]!.GetValue<string>());
    }

    public async Task<IReadOnlyList<Guid>> EmitBatchAsync(
        string canvas,
        IEnumerable<(string Worker, string EventJson)> items,
        string? token = null)
    {
        var body = "[" + string.Join(",", items.Select(i => $$"""{"worker":"{{i.Worker}}","event":{{i.EventJson}}}"""))
            + "]";
        var accepted = await JsonAsync(
            HttpMethod.Post,
            EmitUrl($"/v1/canvases/{canvas}/events"),
            token ?? AdminToken,
            body,
            expect: 202);
        return accepted!["ids"]!.AsArray().Select(id => Guid.Parse(id!.GetValue<string>())).ToList();
    }

    public async Task<JsonArray> TracesAsync(string canvas, string worker) =>
        (await JsonAsync(HttpMethod.Get, ControlUrl($"/v1/canvases/{canvas}/workers/{worker}/traces"), AdminToken))!
            .AsArray();

    /// <summary>The trace of one event, once its worker has kept one.</summary>
    public async Task<JsonNode> TraceOfAsync(string canvas, string worker, Guid id, TimeSpan timeout)
    {
        var traces = await EventuallyAsync(() => TracesAsync(canvas, worker),
            t => t.Any(
                x => x!["eventId"]!.GetValue<string>() == id
                    .ToString()), timeout, $"the trace of {canvas}/{worker}'s event {id}");
        return traces.Single(x => x!["eventId"]!.GetValue<string>() == id.ToString())!;
    }

    public async Task<JsonNode> WorkerAsync(string canvas, string worker) =>
        (await JsonAsync(HttpMethod.Get, ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"), AdminToken))!;

    /// <summary>Polls until the condition holds; fails with the last observed state and the services' logs.</summary>
    public async Task<T> EventuallyAsync<T>(Func<Task<T>> observe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        do
        {
            last = await observe();
            if (done(last)) return last;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);
        throw new Xunit.Sdk.XunitException(
            $"Timed out after {timeout.TotalSeconds}s waiting for {what}; last seen: {last}\n{Logs()}");
    }
}
