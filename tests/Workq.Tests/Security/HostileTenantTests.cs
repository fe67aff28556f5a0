using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Workq.Client;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Security;

/// <summary>
/// docs/security.md's attacks, each tried from the attacker canvas while the victim canvas runs its steady
/// stream: refused at deploy, or failing inside the attacker's own run, and never touching the victim.
/// </summary>
[Collection(HostileTenantCollection.Name)]
public sealed class HostileTenantTests(HostileTenant tenants)
{
    private WorkqCluster Cluster => tenants.Cluster;

    /// <summary>Each destination is tried in one run; the handler returns what happened to each.</summary>
    private static string ProbeCode(IEnumerable<string> urls) => $$"""
        var outcomes = new List<string>();
        foreach (var url in new[] { {{string.Join(", ", urls.Select(u => $"\"{u}\""))}} })
        {
            try
            {
                using var response = await Http.GetAsync(url, CancellationToken);
                outcomes.Add(
                    $"{url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (HttpRequestException e)
            {
                outcomes.Add($"{url} failed: {e.Message}");
            }
        }
        return outcomes;
        """;

    [Fact]
    public async Task Http_cannot_reach_the_broker_the_database_or_any_internal_address_however_it_is_named()
    {
        var machine = NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a
                .Address).First(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        string[] urls =
        [
            "http://127.0.0.1:15672/api/queues",                 // RabbitMQ's management API
            "http://guest:guest@127.0.0.1:15672/api/overview",
            "http://localhost:15672/api/overview",              // a name that resolves to loopback
            $"http://{Dns.GetHostName()}:15672/api/overview",   // the machine's own name
            $"http://{machine}:15672/api/overview",              // the machine's own interface address
            "http://[::1]:15672/api/overview",
            "http://[::ffff:127.0.0.1]:15672/api/overview",      // IPv4 inside IPv6
            "http://0.0.0.0:15672/api/overview",
            "http://127.0.0.1:5432/",                            // PostgreSQL
            $"{Cluster.Control.Url}v1/canvases",                 // Workq's own services
            "http://169.254.169.254/latest/meta-data/",          // cloud metadata (refused before any packet)
        ];

        var trace = await tenants.RunAttackAsync("probe", ProbeCode(urls));

        Assert.Equal("completed", trace["status"]!.GetValue<string>());
        var outcomes = trace["result"]!.AsArray().Select(o => o!.GetValue<string>()).ToList();
        Assert.Equal(urls.Length, outcomes.Count);
        Assert.All(outcomes, outcome =>
        {
            Assert.DoesNotContain(" answered ", outcome, StringComparison.Ordinal);
            Assert.Contains("refused by the egress policy", outcome, StringComparison.Ordinal);
            Assert.Contains("WORKQ_HANDLER_HTTP_ALLOW", outcome, StringComparison.Ordinal);
        });
        Assert.Contains(outcomes, o => o.Contains("a loopback address", StringComparison.Ordinal));
        Assert.Contains(outcomes, o => o.Contains("a link-local address", StringComparison.Ordinal));
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task A_refused_call_that_is_not_caught_fails_the_run_with_the_rule_in_its_trace()
    {
        var trace = (await tenants.RunAttackAsync("metadata", """
            return await Http.GetStringAsync("http://127.0.0.1:15672/api/queues", CancellationToken);
            """)).As<Trace>();

        Assert.Equal("failed", trace.Status);
        Assert.Equal("HttpRequestException", trace.Error!.Type);
        Assert.Contains(
            "127.0.0.1 is a loopback address",
            trace.Error.Message,
            StringComparison.Ordinal);
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task A_redirect_from_an_allowed_host_to_an_internal_one_is_refused()
    {
        // The test clusters allow 127.0.0.2 (their sinks); the redirect points at the broker on 127.0.0.1.
        var (app, url) = await LocalServer.StartAsync(
            app => app.MapGet("/", () => Results.Redirect("http://127.0.0.1:15672/api/queues")));
        await using var _ = app;

        var trace = await tenants.RunAttackAsync("redirect", ProbeCode([url.ToString()]));

        var outcome = Assert.Single(trace["result"]!.AsArray())!.GetValue<string>();
        Assert.Contains("127.0.0.1 is a loopback address", outcome, StringComparison.Ordinal);
        await tenants.AssertVictimUnharmedAsync();
    }

    public static TheoryData<string, string, string> RefusedAtDeploy => new()
    {
        {
            "own client",
            "var c = new HttpClient(); return await c.GetStringAsync(\"http://127.0.0.1:15672/\");",
            "new System.Net.Http.HttpClient" },
        { "own handler", "var h = new SocketsHttpHandler(); return 1;", "System.Net.Http.SocketsHttpHandler" },
        { "proxy capture", "HttpClient.DefaultProxy = null!; return 1;", "System.Net.Http.HttpClient.DefaultProxy" },
        { "raw socket", "var c = new System.Net.Sockets.TcpClient(\"127.0.0.1\", 5672); return 1;", "CS0234" },
        {
            "shared pool",
            "var b = System.Buffers.ArrayPool<byte>.Shared.Rent(4096); return Convert.ToBase64String(b);",
            "System.Buffers.ArrayPool<System.Byte>.Shared" },
        {
            "pooled buffer through a stream",
            "class Peek : System.IO.MemoryStream { public override void Write(byte[] b, int o, int c) => "
                + "base.Write(b, 0, b.Length); } var p = new Peek(); "
                + "new System.IO.MemoryStream(new byte[1]).CopyTo(p); return p.Length;",
            "System.IO.MemoryStream" },
        {
            "pooled buffer through formatting",
            "struct Peek : ISpanFormattable { public string ToString(string? f, IFormatProvider? p) => \"\"; "
                + "public bool TryFormat(Span<char> d, out int n, ReadOnlySpan<char> f, IFormatProvider? p) "
                + "{ n = 0; return true; } } return $\"{new Peek()}\";",
            "System.ISpanFormattable" },
        {
            "serializer metadata",
            "return JsonSerializerOptions.Default.GetTypeInfo(typeof(string)).Properties.Count;",
            "System.Text.Json.JsonSerializerOptions.GetTypeInfo" },
        {
            "globals through a delegate",
            "Func<string, object?, Task<Guid>> emit = Emit; return JsonSerializer.Serialize(emit.Target);",
            "System.Delegate.Target" },
        {
            "async void",
            "async void Later() { await Task.Delay(2000); throw new Exception(\"boom\"); } Later(); return 1;",
            "async void" },
        {
            "background task",
            "_ = Task.Run(async () => { while (true) await Task.Delay(1000); }); return 1;",
            "System.Threading.Tasks.Task.Run" },
        {
            "timer",
            "var t = new Timer(_ => throw new Exception(\"boom\"), null, 2000, 0); return 1;",
            "System.Threading.Timer" },
        {
            "continuation",
            "_ = Task.Delay(2000).ContinueWith(_ => throw new Exception(\"boom\")); return 1;",
            "System.Threading.Tasks.Task.ContinueWith" },
        {
            "unobserved exceptions",
            "TaskScheduler.UnobservedTaskException += (s, e) => { }; return 1;",
            "System.Threading.Tasks.TaskScheduler" },
        {
            "stackalloc",
            "int Deep() { Span<byte> b = stackalloc byte[1 << 20]; return b.Length; } return Deep();",
            "stackalloc" },
        {
            "process-wide culture",
            "System.Globalization.CultureInfo.DefaultThreadCurrentCulture = "
                + "new System.Globalization.CultureInfo(\"ar-SA\"); return 1;",
            "DefaultThreadCurrentCulture" },
        {
            "environment",
            "return Environment.GetEnvironmentVariable(\"WORKQ_POSTGRES\");",
            "System.Environment.GetEnvironmentVariable" },
        { "reflection", "return typeof(object).Assembly.GetTypes().Length;", "System.Type.Assembly" },
    };

    [Theory]
    [MemberData(nameof(RefusedAtDeploy))]
    public async Task Code_that_reaches_outside_its_canvas_is_refused_at_deploy_with_the_api_at_its_line(
        string attack,
        string code,
        string api)
    {
        var refused = await Cluster.JsonAsync(
            HttpMethod.Put,
            Cluster.ControlUrl($"/v1/canvases/{tenants.Attacker}/workers/deploy-{attack.Replace(' ', '-')}"),
            tenants.AttackerToken,
            new JsonObject { ["code"] = code }.ToJsonString(),
            expect: 400);

        var errors = refused.As<Problem>().Errors!;
        Assert.Contains(errors, e => e.Message.Contains(api, StringComparison.Ordinal) && e.Line == 1 && e.Column >= 1);
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task A_compile_bomb_is_stopped_at_the_compile_timeout_and_costs_the_victim_nothing()
    {
        var started = DateTime.UtcNow;
        var refused = await Cluster.JsonAsync(
            HttpMethod.Put,
            Cluster.ControlUrl($"/v1/canvases/{tenants.Attacker}/workers/bomb"),
            tenants.AttackerToken,
            new JsonObject { ["code"] = Scripting.CompileBomb.Code() }.ToJsonString(),
            expect: 400);

        Assert.Contains("compile took too long", refused.As<Problem>().Detail, StringComparison.Ordinal);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(30));
        await tenants.AssertVictimUnharmedAsync();
        // The victim can still deploy right after.
        await Cluster.DeployAsync(tenants.Victim, "after-bomb", "return 1;", token: tenants.VictimToken);
    }

    [Fact]
    public async Task One_event_cannot_fan_out_past_the_emit_limit()
    {
        var trace = await tenants.RunAttackAsync("fanout", """
            // 50,000 in all, a hundred at a time (the test cluster's handler time-out is 3 s).
            for (var i = 0; i < 500; i++) await Task.WhenAll(Enumerable.Range(0, 100).Select(j => Emit("sink", j)));
            return "all emitted";
            """);

        var run = trace.As<Trace>();
        Assert.True(run.Status == "failed", trace.ToJsonString()[..Math.Min(2000, trace.ToJsonString().Length)]);
        Assert.Contains("WORKQ_MAX_EMITS_PER_EVENT", run.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1_000, run.Emitted.Count);
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task A_catastrophic_regular_expression_stops_after_a_second()
    {
        var trace = await tenants.RunAttackAsync("redos", """
            return System.Text.RegularExpressions.Regex.IsMatch(new string('a', 40) + "!", "^(a+)+$");
            """);

        var run = trace.As<Trace>();
        Assert.True(run.Status == "failed", trace.ToJsonString());
        Assert.Equal("RegexMatchTimeoutException", run.Error!.Type);
        Assert.InRange(run.DurationMs, 900, 10_000);
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task A_handler_cannot_emit_into_another_canvas()
    {
        // Emit is same-canvas by construction: a worker name cannot carry a canvas, and the victim's name is only a
        // worker name here.
        var trace = await tenants.RunAttackAsync("forge", $$"""
            var ids = new List<string>
            {
                (await Emit("{{HostileTenant.VictimWorker}}", new { secret = "forged", n = -1 })).ToString(),
            };
            try { await Emit("workq.canvas.{{tenants.Victim}}", new { secret = "forged" }); }
            catch (ArgumentException e) { ids.Add(e.Message); }
            return ids;
            """);

        Assert.Equal("completed", trace["status"]!.GetValue<string>());
        Assert.Contains("Invalid worker name", trace["result"]![1]!.GetValue<string>(), StringComparison.Ordinal);
        // The forged event landed on the attacker's own canvas, as an event for a worker it does not have.
        var unhandled = await Cluster.EventuallyAsync(
            () => Cluster.JsonAsync(
                HttpMethod.Get,
                Cluster.ControlUrl($"/v1/canvases/{tenants.Attacker}/unhandled"),
                tenants.AttackerToken),
            u => u.As<List<Unhandled>>().Any(x => x.Worker == HostileTenant.VictimWorker),
            TimeSpan.FromSeconds(30),
            "the forged event in the attacker's unhandled list");
        Assert.Contains("forged", unhandled!.ToJsonString(), StringComparison.Ordinal);
        await tenants.AssertVictimUnharmedAsync();
        foreach (var victimTrace in await Cluster.GetTracesAsync(tenants.Victim, HostileTenant.VictimWorker))
        {
            var secret = victimTrace.Result.As<SecretResult>().Secret;
            Assert.NotNull(secret);
            Assert.NotEqual("forged", secret);
        }
    }

    [Fact]
    public async Task The_attackers_token_reads_and_steers_nothing_of_the_victim()
    {
        string[] routes =
        [
            $"/v1/canvases/{tenants.Victim}/workers",
            $"/v1/canvases/{tenants.Victim}/workers/{HostileTenant.VictimWorker}/traces",
            $"/v1/canvases/{tenants.Victim}/workers/{HostileTenant.VictimWorker}/dead-letters",
            $"/v1/canvases/{tenants.Victim}/unhandled",
        ];
        foreach (var route in routes)
        {
            using var read = await Cluster.SendAsync(HttpMethod.Get, Cluster.ControlUrl(route), tenants.AttackerToken);
            Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
            Assert.DoesNotContain(tenants.Secret, await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var pause = await Cluster.SendAsync(
            HttpMethod.Post,
            Cluster.ControlUrl($"/v1/canvases/{tenants.Victim}/workers/{HostileTenant.VictimWorker}/pause"),
            tenants.AttackerToken);
        Assert.Equal(HttpStatusCode.Forbidden, pause.StatusCode);
        using var emit = await Cluster.SendAsync(
            HttpMethod.Post,
            Cluster.EmitUrl($"/v1/canvases/{tenants.Victim}/workers/{HostileTenant.VictimWorker}/events"),
            tenants.AttackerToken,
            """{"secret":"forged","n":-1}""");
        Assert.Equal(HttpStatusCode.Forbidden, emit.StatusCode);
        await tenants.AssertVictimUnharmedAsync();
    }

    [Fact]
    public async Task The_broker_and_the_database_refuse_their_default_credentials()
    {
        using var management = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var managementUrl = new Uri(WorkqCluster.ManagementUrl);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(managementUrl, "/api/overview"));
        request.Headers.Authorization = new("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        using var guest = await management.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, guest.StatusCode);

        var amqp = new RabbitMQ.Client.ConnectionFactory
        {
            Uri = new Uri($"amqp://guest:guest@{managementUrl.Host}:5672/")
        };
        await Assert.ThrowsAnyAsync<RabbitMQ.Client.Exceptions.BrokerUnreachableException>(
            () => amqp.CreateConnectionAsync());

        var postgres = new Npgsql.NpgsqlConnectionStringBuilder(Cluster.ServiceEnvironment["WORKQ_POSTGRES"])
        {
            Password = "workq",
            Timeout = 5
        };
        await using var connection = new Npgsql.NpgsqlConnection(postgres.ConnectionString);
        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => connection.OpenAsync());
        Assert.Equal("28P01", refused.SqlState); // invalid_password
    }

    /// <summary>
    /// The credentials the services run with, as handler code that got hold of them (docs/security.md) would use them:
    /// a broker user with the management tag and its own virtual host only, a database role that only owns its
    /// database.
    /// </summary>
    [Fact]
    public async Task The_services_broker_user_and_database_role_cannot_administer_their_servers()
    {
        var services = Cluster.ServiceEnvironment;
        var managementUrl = services["WORKQ_RABBITMQ_MANAGEMENT_URL"].Split(',')[0];
        var (user, password) = LocalServers.Credentials(managementUrl);
        using var management = new HttpClient
        {
            BaseAddress = new Uri(new Uri(managementUrl).GetLeftPart(UriPartial.Authority) + "/"),
            Timeout = TimeSpan.FromSeconds(30)
        };
        management.DefaultRequestHeaders.Authorization
            = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

        var whoami = JsonNode.Parse(await management.GetStringAsync("api/whoami"))!;
        Assert.Equal(["management"], whoami["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        // What control needs (the queue depth metric) works: the refusals below are not a wrong password.
        using (var own = await management.GetAsync(
            $"api/queues/{Uri.EscapeDataString(Cluster.VirtualHost)}?columns=name"))
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);

        // Another virtual host, with a queue, opened to the administrator only.
        var other = "workq-test-other-" + Guid.NewGuid().ToString("N")[..10];
        var secretQueue = "secret-" + Guid.NewGuid().ToString("N");
        await Cluster.Rabbit.CreateVirtualHostAsync(other, serviceUser: null);
        try
        {
            await Cluster.Rabbit.DeclareQueueAsync(other, secretQueue, new Dictionary<string, object>());
            using (var theirs = await management.GetAsync($"api/queues/{Uri.EscapeDataString(other)}"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, theirs.StatusCode);
                Assert.DoesNotContain(secretQueue, await theirs.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            Assert.DoesNotContain(
                secretQueue,
                await management.GetStringAsync("api/queues?columns=name"),
                StringComparison.Ordinal);
            using (var grant = await management.PutAsJsonAsync(
                $"api/permissions/{Uri.EscapeDataString(other)}/{Uri.EscapeDataString(user)}",
                new { configure = ".*", write = ".*", read = ".*" }))
                Assert.Equal(HttpStatusCode.Unauthorized, grant.StatusCode);
            // The broker refuses the virtual host in answer to connection.open, which the client may not wait for: the
            // channel shows it.
            var amqp = new RabbitMQ.Client.ConnectionFactory
            {
                Uri = new Uri(Cluster.Broker.AmqpUrl(other).Split(',')[0])
            };
            var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var connection = await amqp.CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync();
                await channel.QueueDeclarePassiveAsync(secretQueue);
            });
            Assert.Contains("access to vhost", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await Cluster.Rabbit.DeleteVirtualHostAsync(other);
        }
        var made = "workq-test-made-" + Guid.NewGuid().ToString("N")[..10];
        using (var create = await management.PutAsJsonAsync($"api/vhosts/{made}", new { }))
            Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
        using (var users = await management.GetAsync("api/users"))
            Assert.Equal(HttpStatusCode.Unauthorized, users.StatusCode);

        await using var db = new Npgsql.NpgsqlConnection(services["WORKQ_POSTGRES"]);
        await db.OpenAsync();
        await using (var role = new Npgsql.NpgsqlCommand("""
            select r.rolsuper, r.rolcreatedb, r.rolcreaterole, d.datdba = r.oid
            from pg_roles r, pg_database d where r.rolname = current_user and d.datname = current_database()
            """, db))
        await using (var attributes = await role.ExecuteReaderAsync())
        {
            Assert.True(await attributes.ReadAsync());
            Assert.Equal(
                (false, false, false, true),
                (attributes.GetBoolean(0), attributes.GetBoolean(1), attributes.GetBoolean(2), attributes.GetBoolean(
                    3)));
        }
        foreach (var sql in new[] {
            $"create database workq_test_made_{Guid.NewGuid():N}",
            $"create role workq_test_made_{Guid.NewGuid():N}" })
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, db);
            var refusal = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Equal("42501", refusal.SqlState); // insufficient_privilege
        }
    }
}
