using Workq.Shared.Configuration;
using Workq.Shared.Scripting;

namespace Workq.Worker.Isolation;

public static class HandlerHostSetup
{
    /// <summary>Registers where handler code runs: a runner process per canvas (the default) or this process (<c>WORKQ_ISOLATION=none</c>).</summary>
    public static void AddHandlerHost(this WebApplicationBuilder builder, WorkqOptions options)
    {
        // Handler Http is made here either way: in this process, or for the runners, which have no network of their own.
        builder.Services.AddSingleton(_ => new HandlerHttp(options.HandlerEgress));
        if (options.Isolation == HandlerIsolation.None)
        {
            builder.Services.AddSingleton<IHandlerHost, InProcessHost>();
            return;
        }
        builder.Services.AddSingleton(services =>
        {
            var logger = services.GetRequiredService<ILogger<RunnerPool>>();
            var cgroups = RunnerCgroups.TryCreate(options.RunnerCpus, logger);
            var runner = RunnerOptions.From(options, builder.Configuration, cgroups);
            if (!File.Exists(runner.RunnerDll))
                throw new FileNotFoundException($"The runner {runner.RunnerDll} is missing: build or publish services/worker, which references services/runner.");
            logger.LogInformation("Handler code runs in a runner process per canvas: {Memory} MB heap, {Threads} threads, CPU {Cpu}",
                runner.MemoryMegabytes, runner.Threads, cgroups is null ? "at lower priority (no writable cgroup)" : $"{options.RunnerCpus} core(s) by {cgroups.Kind}");
            return new RunnerPool(runner, services.GetRequiredService<HandlerHttp>(), logger);
        });
        builder.Services.AddSingleton<IHandlerHost>(services => services.GetRequiredService<RunnerPool>());
        builder.Services.AddHostedService(services => services.GetRequiredService<RunnerPool>());
    }
}
