using System.Net.Sockets;
using Testcontainers.RabbitMq;

namespace Workq.Tests.Cluster;

/// <summary>
/// One RabbitMQ node in a container (Testcontainers' RabbitMQ module), for the fault this machine's own broker cannot be
/// put through without taking the other suites with it: the broker killed with SIGKILL under load. Workq gets the
/// single URI it has always taken.
/// </summary>
[Collection(BrokerClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class SingleNodeBrokerTests(ITestOutputHelper output)
{
    private const string Password = "single-node-test-password";

    [ContainersFact]
    public async Task Killing_the_only_broker_under_load_answers_503_until_it_is_back_and_loses_no_event()
    {
        // Fixed host ports, so the broker is where Workq was told it is after it starts again.
        var (amqp, management) = (FreePort(), FreePort());
        await using var broker = new RabbitMqBuilder()
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
        var node = new TestBroker([$"amqp://{RabbitNodes.User}:{Password}@127.0.0.1:{amqp}"], [$"http://{RabbitNodes.User}:{Password}@127.0.0.1:{management}/"]);
        await using var workq = new WorkqCluster { Broker = node };
        await workq.InitializeAsync();

        var row = await BrokerFaults.RunAsync(workq, "single node (RabbitMQ module): the broker killed with SIGKILL, started again after 10 s", async _ =>
        {
            await DockerCli.RunAsync("kill", "--signal", "KILL", broker.Id);
            await Task.Delay(TimeSpan.FromSeconds(10));   // the outage's length
            await DockerCli.RunAsync("start", broker.Id);
            return new FaultNotes("no node left to take emits: 503 + Retry-After until the broker was back");
        }, () => workq.EventuallyAsync(() => Task.FromResult(IsListening(amqp)), up => up, TimeSpan.FromSeconds(90), "the broker listening again"), output.WriteLine);
        Assert.Equal(0, row.Lost);
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
