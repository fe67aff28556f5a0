using System.Net.NetworkInformation;
using System.Net.Sockets;
using Npgsql;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Security;

/// <summary>
/// Issue 24's guard-bypass suite: code compiled without the API guard (<see cref="GuardBypass"/>) runs in a real
/// sandboxed runner and tries to reach the machine, each attack in a test of its own. Every attempt fails, the runner
/// learns nothing of the host, the worker service keeps its pid and the neighbour's events all run once. Each test
/// prints its rows of the table "attempt: what the OS answered" (docs/security.md, "The OS wall").
/// </summary>
[Collection(GuardBypassCollection.Name)]
public sealed class GuardBypassTests(GuardBypass bypass, ITestOutputHelper output)
{
    private WorkqCluster Cluster => bypass.Cluster;

    public static TheoryData<string> HostFiles
        => ["servers.env", "admin-token", "supervisor environ", "/etc/shadow", "checkout"];

    [Theory]
    [MemberData(nameof(HostFiles))]
    public async Task Reading_a_file_of_the_host_fails(string file)
    {
        var path = file switch
        {
            "servers.env" => Path.Combine(RepoPaths.Root, ".run", "servers.env"),
            "admin-token" => Path.Combine(RepoPaths.Root, ".run", "admin-token"),
            "supervisor environ" => $"/proc/{bypass.SupervisorPid}/environ",
            "checkout" => Path.Combine(RepoPaths.Root, "README.md"),
            _ => file,
        };
        // A secret that is really there: ./run.sh writes the admin token, so a canary stands in where it has not run.
        var canary = !File.Exists(path) && file == "admin-token";
        if (canary) await File.WriteAllTextAsync(path, "canary-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.True(File.Exists(path), $"{path} is not on this machine: nothing to keep from the runner");
            var outcome = Assert.Single(await AttackAsync("read", new JsonObject { ["paths"] = new JsonArray(path) }));
            Assert.DoesNotContain("SUCCEEDED", outcome, StringComparison.Ordinal);
        }
        finally
        {
            if (canary) File.Delete(path);
        }
    }

    public static TheoryData<string> HostDirectories => ["checkout", "/home", "/root", "/run", "/var"];

    [Theory]
    [MemberData(nameof(HostDirectories))]
    public async Task Listing_a_directory_of_the_host_fails(string directory)
    {
        var path = directory == "checkout" ? RepoPaths.Root : directory;
        var outcome = Assert.Single(await AttackAsync("list", new JsonObject { ["paths"] = new JsonArray(path) }));
        Assert.Contains("DirectoryNotFoundException", outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_runner_sees_itself_alone_on_a_file_system_of_its_own_without_a_network()
    {
        var trace = await bypass.AttackAsync("look");
        Assert.Equal("completed", trace["status"]!.GetValue<string>());
        var seen = trace["result"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        foreach (var (what, value) in seen) output.WriteLine($"look: {what}: {value}");
        AssertLearnedNothing(trace);

        Assert.Equal("runner", seen["hostname"]);
        // /proc lists the runner alone, as pid 1: the host's pid 1 and the supervisor are out of sight.
        Assert.Equal("1", seen["proc"]);
        Assert.Contains("Workq.Runner.dll", seen["proc1"], StringComparison.Ordinal);
        Assert.NotEqual(File.ReadAllText("/proc/1/cmdline").Replace('\0', ' ').Trim(), seen["proc1"]);
        Assert.Subset(
            new HashSet<string>(["/dev", "/etc", "/lib", "/lib64", "/proc", "/runner", "/tmp", "/usr"]),
            seen["root"].Split(' ').ToHashSet());
        Assert.Equal("lo", seen["interfaces"]);
        Assert.DoesNotContain("WORKQ_", seen["environment"], StringComparison.Ordinal);
        Assert.Contains("CapEff:\t0000000000000000", seen["status"], StringComparison.Ordinal);
        Assert.Contains("NoNewPrivs:\t1", seen["status"], StringComparison.Ordinal);
        Assert.Contains("Seccomp:\t2", seen["status"], StringComparison.Ordinal);
        await bypass.AssertNeighbourUnharmedAsync();
    }

    [Fact]
    public async Task Writing_outside_its_private_tmp_fails()
    {
        var own = $"workq-bypass-{Guid.NewGuid():N}";
        string[] outside = ["/" + own, "/runner/" + own, "/usr/" + own, "/etc/" + own, "/dev/" + own, "/proc/"
            + own, Path.Combine(RepoPaths.Root, ".run", own)];
        var outcomes = await AttackAsync("write", new JsonObject
        {
            ["paths"] = new JsonArray([.. outside.Append("/tmp/" + own).Select(p => JsonValue.Create(p))])
        });

        Assert.All(outcomes.Take(outside.Length), o => Assert.DoesNotContain("SUCCEEDED", o, StringComparison.Ordinal));
        // Its /tmp takes the write, and it is its own: nothing lands in the host's.
        Assert.Contains("SUCCEEDED", outcomes[^1], StringComparison.Ordinal);
        Assert.False(File.Exists("/tmp/" + own));
        Assert.All(outside, path => Assert.False(File.Exists(path), path));
    }

    [Fact]
    public async Task Tcp_to_the_broker_the_database_every_workq_port_the_machines_addresses_and_a_loopback_fails()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var broker = new Uri(Cluster.Broker.AmqpUrl(Cluster.VirtualHost));
        var database = new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin);
        var ports = new[] { Cluster.Control, Cluster.Emitter, Cluster.Dispatcher }.Concat(
            Cluster.Workers.Where(w => !w.HasExited)).Select(s => s.Port).ToList();
        var targets = new List<string>
        {
            $"{Address(broker.Host)} {broker.Port}",
            $"{Address(database.Host!)} {database.Port}",
            $"127.0.0.1 {((IPEndPoint)listener.LocalEndpoint).Port}",
        };
        targets.AddRange(ports.Select(port => $"127.0.0.1 {port}"));
        targets.AddRange(MachineAddresses().Select(address => $"{address} {ports[0]}"));

        var outcomes = await AttackAsync(
            "tcp",
            new JsonObject { ["targets"] = new JsonArray([.. targets.Select(t => JsonValue.Create(t))]) });

        Assert.Equal(targets.Count, outcomes.Count);
        Assert.All(outcomes, o => Assert.DoesNotContain("SUCCEEDED", o, StringComparison.Ordinal));
        Assert.False(listener.Pending(), "the loopback listener was reached");
    }

    [Fact]
    public async Task Udp_and_dns_fail()
    {
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        var targets = new[] { $"127.0.0.1 {port}", "8.8.8.8 53" }.Concat(MachineAddresses().Select(a => $"{a} {port}"))
            .ToList();
        string[] names = ["example.com", Dns.GetHostName(), "localhost"];

        var outcomes = await AttackAsync("udp", new JsonObject
        {
            ["targets"] = new JsonArray([.. targets.Select(t => JsonValue.Create(t))]),
            ["names"] = new JsonArray([.. names.Select(n => JsonValue.Create(n))]),
        });

        Assert.Equal(targets.Count + names.Length, outcomes.Count);
        Assert.All(outcomes, o => Assert.DoesNotContain("SUCCEEDED", o, StringComparison.Ordinal));
        Assert.Equal(0, receiver.Available);
    }

    [Fact]
    public async Task Starting_a_program_fails()
    {
        var outcomes = await AttackAsync("exec");
        Assert.Equal(3, outcomes.Count);
        Assert.All(outcomes, o => Assert.DoesNotContain("SUCCEEDED", o, StringComparison.Ordinal));
        // The dotnet host is in the sandbox: the runner's own filter refuses execve itself.
        Assert.Contains("Operation not permitted", outcomes[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fork_is_refused_at_once()
    {
        var outcome = Assert.Single(await AttackAsync("fork"));
        Assert.Equal("fork until refused: 0 forks, then Operation not permitted", outcome);
    }

    [Fact]
    public async Task Ptrace_fails()
    {
        var outcomes = await AttackAsync("ptrace", new JsonObject
        {
            ["pids"] = new JsonArray(
                bypass.SupervisorPid.ToString(System.Globalization.CultureInfo.InvariantCulture))
        });
        Assert.Equal(3, outcomes.Count);
        Assert.All(outcomes, o => Assert.EndsWith("Operation not permitted", o, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kill_9_of_the_supervisor_fails()
    {
        var outcome = Assert.Single(await AttackAsync("kill", new JsonObject
        {
            ["pids"] = new JsonArray(
                bypass.SupervisorPid.ToString(System.Globalization.CultureInfo.InvariantCulture))
        }));
        Assert.DoesNotContain("SUCCEEDED", outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setuid_0_fails()
    {
        var outcomes = await AttackAsync("setuid");
        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, o => Assert.DoesNotContain("SUCCEEDED", o, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_GiB_of_native_memory_end_the_runner_at_its_memory_limit()
    {
        var trace = await bypass.AttackAsync("memory");
        var error = $"{trace["error"]?["type"]}: {trace["error"]?["message"]}";
        output.WriteLine($"2 GiB of native memory: {trace["status"]} {error}");
        Assert.Equal("failed", trace["status"]!.GetValue<string>());
        Assert.Contains("out of memory", error, StringComparison.OrdinalIgnoreCase);
        await bypass.AssertNeighbourUnharmedAsync();
    }

    [Fact]
    public async Task Raw_garbage_on_stdout_ends_the_runner()
    {
        var trace = (await bypass.AttackAsync("garbage")).As<Trace>();
        output.WriteLine($"garbage on stdout: {trace.Status} {trace.Error?.Type}: {trace.Error?.Message}");
        Assert.Equal("failed", trace.Status);
        Assert.Equal("RunnerCrashed", trace.Error!.Type);
        Assert.StartsWith(
            "runner broke the protocol: a frame of 2147483647 bytes",
            trace.Error.Message,
            StringComparison.Ordinal);
        await bypass.AssertNeighbourUnharmedAsync();
    }

    [Fact]
    public async Task A_forged_frame_on_stdout_ends_the_runner_naming_the_protocol_break()
    {
        var trace = (await bypass.AttackAsync("forge")).As<Trace>();
        output.WriteLine($"forged Done frames on stdout: {trace.Status} {trace.Result?.ToJsonString()} "
            + $"{trace.Error?.Type}: {trace.Error?.Message}");
        Assert.Equal("failed", trace.Status);
        Assert.Equal(
            "runner broke the protocol: a Done frame about run 1000000, which this runner was never given",
            trace.Error!.Message);
        await bypass.AssertNeighbourUnharmedAsync();
    }

    /// <summary>
    /// Runs the attack, which must complete and return its outcomes; prints them, and checks the neighbour.
    /// </summary>
    private async Task<IReadOnlyList<string>> AttackAsync(string worker, JsonObject? arguments = null)
    {
        var trace = await bypass.AttackAsync(worker, arguments);
        Assert.True(trace["status"]!.GetValue<string>() == "completed", $"the attack did not complete: {trace}");
        var outcomes = trace["result"]!.AsArray().Select(o => o!.GetValue<string>()).ToList();
        foreach (var outcome in outcomes) output.WriteLine(outcome);
        AssertLearnedNothing(trace);
        await bypass.AssertNeighbourUnharmedAsync();
        return outcomes;
    }

    // Nothing the worker service holds reaches what the attacker reads.
    private void AssertLearnedNothing(JsonNode trace)
    {
        var text = trace.ToJsonString();
        var database = new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin);
        var broker = new Uri(Cluster.Broker.AmqpUrl(Cluster.VirtualHost)).UserInfo.Split(':').Last();
        foreach (var secret in new[] { Cluster.AdminToken, database.Password!, Uri.UnescapeDataString(broker) })
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
    }

    private static string Address(string host)
        => IPAddress.TryParse(host, out var address) ? address.ToString() : Dns.GetHostAddresses(host)[0].ToString();

    private static IEnumerable<IPAddress> MachineAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal);
}
