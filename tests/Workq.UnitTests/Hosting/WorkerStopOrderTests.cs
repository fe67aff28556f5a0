using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Workq.Shared.Hosting;
using Workq.Shared.Storage;
using Workq.Worker;
using Workq.Worker.Consuming;
using Workq.Worker.Instance;
using Workq.Worker.Recording;

namespace Workq.UnitTests.Hosting;

/// <summary>
/// The host stops hosted services in the reverse order of their registration: the worker's consumers must stop before
/// the recorders that write what they finished.
/// </summary>
public sealed class WorkerStopOrderTests
{
    [Fact]
    public async Task The_consumers_stop_before_the_recorders()
    {
        var builder = WebApplication.CreateBuilder();
        // In-process handlers: no runner process is probed at registration.
        builder.Configuration["WORKQ_ISOLATION"] = "none";
        await builder.AddWorkerServicesAsync();

        var stopOrder = HostedTypes(builder.Services)
            .Where(type => type.Namespace?.StartsWith("Workq.", StringComparison.Ordinal) == true)
            .Reverse().ToList();

        Assert.Equal(
            [
                typeof(WorkerReconciler), typeof(LoadReporter), typeof(InstanceHeartbeat),
                typeof(RunRecorder), typeof(EventStatusRecorder), typeof(SchemaInitializer),
            ],
            stopOrder);
    }

    [Fact]
    public void A_hosted_singleton_is_one_instance_for_both_roles()
    {
        var services = new ServiceCollection();
        services.AddHostedSingleton<Ticker>();
        using var provider = services.BuildServiceProvider();
        Assert.Same(provider.GetRequiredService<Ticker>(), Assert.Single(provider.GetServices<IHostedService>()));
    }

    [Fact]
    public void A_hosted_singleton_registered_twice_is_hosted_once()
    {
        var services = new ServiceCollection();
        services.AddHostedSingleton<Ticker>().AddHostedSingleton<Ticker>();
        Assert.Single(HostedTypes(services));
    }

    // What a hosted service's descriptor makes: its type, or its factory's (a Func<IServiceProvider, T>).
    private static IEnumerable<Type> HostedTypes(IServiceCollection services) =>
        services.Where(descriptor => descriptor.ServiceType == typeof(IHostedService))
            .Select(descriptor => descriptor.ImplementationType
                ?? descriptor.ImplementationFactory?.GetType().GenericTypeArguments[1]
                ?? descriptor.ImplementationInstance!.GetType());

    private sealed class Ticker : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }
}
