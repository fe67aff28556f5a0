using System.Net.Sockets;
using Testcontainers.RabbitMq;

namespace Workq.Tests.Cluster;

/// <summary>
/// One RabbitMQ node in a container (Testcontainers' RabbitMQ module), for the fault this machine's own broker cannot
/// be put through without taking the other suites with it: the broker killed with SIGKILL under load. Workq gets the
/// single URI it has always taken.
/// </summary>
[Collection(SingleNodeBrokerCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Background)]
public sealed class SingleNodeBrokerTests(ITestOutputHelper output)
{
    private const string Password = "single-node-test-password";

    [ContainersFact]
    public async Task Killing_the_only_broker_under_load_answers_503_until_it_is_back_and_loses_no_event()
    {
        var (broker, amqp, node) = await StartBrokerAsync();
        await using var container = broker;
        await using var workq = new WorkqCluster { Broker = node };
        await workq.InitializeAsync();

        var row = await BrokerFaults.RunAsync(
            workq,
            "single node (RabbitMQ module): the broker killed with SIGKILL, started again after 10 s",
            async _ =>
            {
                await DockerCli.RunAsync("kill", "--signal", "KILL", broker.Id);
                await Task.Delay(TimeSpan.FromSeconds(10));   // the outage's length
                await DockerCli.RunAsync("start", broker.Id);
                return new FaultNotes("no node left to take emits: 503 + Retry-After until the broker was back");
            },
            () => workq.EventuallyAsync(
                () => Task.FromResult(IsListening(amqp)),
                up => up,
                TimeSpan.FromSeconds(90),
                "the broker listening again"),
            output.WriteLine);
        Assert.Equal(0, row.Lost);
    }

    [ContainersFact]
    public async Task Delayed_emits_waiting_through_a_broker_restart_all_run()
    {
        var (broker, amqp, node) = await StartBrokerAsync();
        await using var container = broker;
        await using var workq = new WorkqCluster { Broker = node };
        await workq.InitializeAsync();
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await workq.CreateCanvasAsync("later");
        await workq.DeployAsync(
            canvas,
            "later",
            string.Format(Integration.DelayedEmitTests.RecordCode, sink.Url),
            concurrency: 10,
            token: token);

        var body = "["
            + string.Join(",", Enumerable.Range(0, 50).Select(_ => """{"worker":"later","event":0,"delaySeconds":5}"""))
            + "]";
        var accepted = (await workq.JsonAsync(
            HttpMethod.Post,
            workq.EmitUrl($"/v1/canvases/{canvas}/events"),
            token,
            body,
            expect: 202))!["ids"]!
            .AsArray().Select(i => i!.GetValue<Guid>().ToString()).ToList();
        await DockerCli.RunAsync("restart", broker.Id);
        await workq.EventuallyAsync(
            () => Task.FromResult(IsListening(amqp)),
            up => up,
            TimeSpan.FromSeconds(90),
            "the broker listening again");

        await workq.EventuallyAsync(
            () => Task.FromResult(sink.Calls.ToHashSet()),
            seen => accepted.All(seen.Contains),
            TimeSpan.FromMinutes(2),
            "every delayed event run after the broker restart");
        output.WriteLine(
            $"{accepted.Count} events scheduled 5 s ahead, broker container restarted: "
            + $"all {accepted.Count} ran ({sink.Calls.Count} runs)");
    }

    /// <summary>
    /// A fresh single node on fixed host ports, so the broker is where Workq was told it is after it starts again.
    /// </summary>
    private static async Task<(RabbitMqContainer Broker, int Amqp, TestBroker Node)> StartBrokerAsync()
    {
        var (amqp, management) = (FreePort(), FreePort());
        var broker = new RabbitMqBuilder()
            .WithImage(LocalServers.RabbitMqImage)
            // The prefix scripts/images.sh clears, should a killed run leave the container behind.
            .WithName($"workq-rabbitmq-single-{Guid.NewGuid():N}"[..36])
            .WithUsername(RabbitNodes.User)
            .WithPassword(Password)
            .WithPortBinding(amqp, RabbitMqBuilder.RabbitMqPort)
            .WithPortBinding(management, 15672)
            .WithCleanUp(false)
            .Build();
        await broker.StartAsync();
        return (broker, amqp, new TestBroker(
            [$"amqp://{RabbitNodes.User}:{Password}@127.0.0.1:{amqp}"],
            [$"http://{RabbitNodes.User}:{Password}@127.0.0.1:{management}/"]));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
