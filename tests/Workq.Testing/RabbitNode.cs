using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;

namespace Workq.Testing;

/// <summary>One node of <see cref="RabbitNodes"/>, and the faults it can be put through.</summary>
public sealed class RabbitNode : IAsyncDisposable
{
    private readonly string network;

    public RabbitNode(string name, string address, string network, string image, string password)
    {
        Name = name;
        Address = address;
        this.network = network;
        Container = new ContainerBuilder()
            .WithImage(image)
            .WithName($"{network}-{name}")
            .WithHostname(name)
            .WithNetwork(network)
            .WithNetworkAliases(name)
            .WithCreateParameterModifier(p => p.NetworkingConfig.EndpointsConfig[network].IPAMConfig
                = new EndpointIPAMConfig { IPv4Address = address })
            .WithEnvironment("RABBITMQ_DEFAULT_USER", RabbitNodes.User)
            .WithEnvironment("RABBITMQ_DEFAULT_PASS", password)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("Server startup complete"))
            .WithCleanUp(false)
            .Build();
    }

    public string Name { get; }
    public string NodeName => $"rabbit@{Name}";
    public string Address { get; }
    public IContainer Container { get; }

    /// <summary>kill -9: the node's process dies at once, with no goodbye to its peers or its clients.</summary>
    public Task KillAsync() => DockerCli.RunAsync("kill", "--signal", "KILL", Container.Id);

    /// <summary>Starts a stopped or killed node again; it rejoins its cluster from its own disk.</summary>
    public Task StartAsync() => DockerCli.RunAsync("start", Container.Id);

    /// <summary>A graceful restart: the node shuts down (handing its queues' leadership over), then starts.</summary>
    public Task RestartAsync() => DockerCli.RunAsync("restart", "--time", "60", Container.Id);

    /// <summary>A grey failure: every process of the node frozen, its connections left open.</summary>
    /// <remarks>
    /// The cgroup freezer gives up ("unable to freeze") when a process will not stop in time, on a busy machine, and
    /// then leaves the container running: the fault is tried again, a few times, before the test fails for want of it.
    /// </remarks>
    public async Task PauseAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await DockerCli.RunAsync("pause", Container.Id);
                return;
            }
            catch (InvalidOperationException e) when (attempt < 5
                && e.Message.Contains("unable to freeze", StringComparison.Ordinal))
            {
            }
        }
    }

    public Task UnpauseAsync() => DockerCli.RunAsync("unpause", Container.Id);

    /// <summary>Cuts the node off from its network: from its peers and from every client.</summary>
    public Task DisconnectAsync() => DockerCli.RunAsync("network", "disconnect", network, Container.Id);

    /// <summary>Heals the partition: back on the network at the same address and name.</summary>
    public Task ReconnectAsync()
        => DockerCli.RunAsync("network", "connect", "--ip", Address, "--alias", Name, network, Container.Id);

    public async Task ExecAsync(IList<string> command)
    {
        var result = await Container.ExecAsync(command);
        if (result.ExitCode != 0) throw new InvalidOperationException(
            $"{Name}: {string.Join(' ', command)} failed ({result.ExitCode}): {result.Stderr}{result.Stdout}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DockerCli.RunAsync("unpause", Container.Id);
        }
        catch (InvalidOperationException)
        {
            // Not paused: the usual case.
        }
        await Container.DisposeAsync();
    }
}
