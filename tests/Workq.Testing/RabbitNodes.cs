using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Networks;

namespace Workq.Testing;

/// <summary>
/// A RabbitMQ cluster in containers (Testcontainers' generic container API), from the image scripts/images.sh built:
/// nodes rmq1..rmqN on a network of their own, one Erlang cookie, joined to rmq1. Each node has a fixed address on
/// that network, which this machine reaches directly, so a node keeps its address through a restart or a partition
/// and Workq's node list stays true. Faults are Docker's own: kill, pause, network disconnect.
/// </summary>
public sealed class RabbitNodes : IAsyncDisposable
{
    public const string User = "workq";

    private readonly INetwork network;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };

    // The resource reaper's image cannot be pulled here: containers and networks are removed by DisposeAsync, and
    // scripts/images.sh removes any that a killed run left.
    static RabbitNodes() => DotNet.Testcontainers.Configurations.TestcontainersSettings.ResourceReaperEnabled = false;

    private RabbitNodes(INetwork network, string password, IReadOnlyList<RabbitNode> nodes)
    {
        this.network = network;
        Password = password;
        Nodes = nodes;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{password}")));
    }

    public string Password { get; }
    public IReadOnlyList<RabbitNode> Nodes { get; }
    public string NetworkName => network.Name;

    /// <summary>Every node, as Workq is given them.</summary>
    public TestBroker Broker => new(
        [.. Nodes.Select(n => $"amqp://{User}:{Password}@{n.Address}:5672")],
        [.. Nodes.Select(n => $"http://{User}:{Password}@{n.Address}:15672/")]);

    /// <summary>Why no cluster can start here (no image built, or no Docker engine), or null when one can.</summary>
    public static string? Unavailable =>
        LocalServers.RabbitMqImage is null
            ? "no RabbitMQ image: run scripts/images.sh (./test.sh does, unless WORKQ_TEST_CLUSTER=0)"
            : !File.Exists("/var/run/docker.sock") ? "no Docker engine (/var/run/docker.sock): run scripts/images.sh"
        : null;

    public static async Task<RabbitNodes> StartAsync(int count, CancellationToken cancellationToken)
    {
        var image = LocalServers.RabbitMqImage ?? throw new InvalidOperationException(Unavailable);
        var password = Guid.NewGuid().ToString("N");
        var (network, subnet) = await CreateNetworkAsync(cancellationToken);
        var nodes = Enumerable.Range(1, count)
            .Select(i => new RabbitNode($"rmq{i}", $"{subnet}.{10 + i}", network.Name, image, password))
            .ToList();
        var cluster = new RabbitNodes(network, password, nodes);
        try
        {
            // All boot at once (CPU-bound, about 20 s on two cores); then the others join the first, one after the
            // other.
            await Task.WhenAll(nodes.Select(n => n.Container.StartAsync(cancellationToken)));
            foreach (var node in nodes.Skip(1))
                await node.ExecAsync([
                    "sh",
                    "-c",
                    $"rabbitmqctl -q stop_app && rabbitmqctl -q join_cluster rabbit@{nodes[0].Name} "
                    + "&& rabbitmqctl -q start_app"]);
            await cluster.WaitHealthyAsync(TimeSpan.FromSeconds(90), cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A network with a subnet of its own (so addresses can be fixed), on a range no other network here uses.
    /// </summary>
    private static async Task<(INetwork Network, string Subnet)> CreateNetworkAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var subnet = $"10.88.{Random.Shared.Next(1, 255)}";
            var network = new NetworkBuilder()
                .WithName($"workq-rabbitmq-{Guid.NewGuid():N}"[..30])
                .WithCreateParameterModifier(p => p.IPAM = new IPAM
                {
                    Config = [new IPAMConfig { Subnet = $"{subnet}.0/24", Gateway = $"{subnet}.1" }]
                })
                .WithCleanUp(false)
                .Build();
            try
            {
                await network.CreateAsync(cancellationToken);
                return (network, subnet);
            }
            catch (Exception) when (attempt < 5)
            {
                // The range overlaps a network left by an earlier run: try another.
            }
        }
    }

    /// <summary>Waits until every node runs, sees every other node running, and has no partition.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (true)
        {
            var healthy = 0;
            foreach (var node in Nodes)
            {
                try
                {
                    var view = ManagementJson.Parse(await http.GetStringAsync(
                        $"http://{node.Address}:15672/api/nodes?columns=name,running,partitions",
                        cancellationToken)).AsArray();
                    if (view.Count == Nodes.Count && view.All(
                        n => n!["running"]?.GetValue<bool>() == true
                            && (n["partitions"]?.AsArray().Count ?? 0) == 0)) healthy++;
                    else last = $"{node.Name} sees {view.ToJsonString()}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException
                    && !cancellationToken.IsCancellationRequested)
                {
                    last = $"{node.Name}: {e.Message}";
                }
            }
            if (healthy == Nodes.Count) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException(
                $"The RabbitMQ cluster did not become healthy within {timeout}: {last}");
            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>The node's management API's answer to a GET (any node sees the whole cluster).</summary>
    public async Task<JsonNode> GetAsync(RabbitNode via, string path, CancellationToken cancellationToken = default) =>
        ManagementJson.Parse(
            await http.GetStringAsync($"http://{via.Address}:15672/{path.TrimStart('/')}", cancellationToken));

    public async ValueTask DisposeAsync()
    {
        // Each container takes seconds to stop; together they take one wait.
        await Task.WhenAll(Nodes.Select(node => node.DisposeAsync().AsTask()));
        await network.DeleteAsync();
        http.Dispose();
    }
}
