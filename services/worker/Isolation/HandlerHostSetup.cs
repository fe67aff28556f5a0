using Microsoft.Extensions.Logging.Abstractions;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Hosting;
using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

public static class HandlerHostSetup
{
    /// <summary>
    /// Registers where handler code runs: a runner process per canvas (the default) or this process
    /// (<c>WORKQ_ISOLATION=none</c>). Runners start in the OS sandbox unless <c>WORKQ_SANDBOX=off</c>: it is set up and
    /// tried here, once, and where it cannot start the service refuses to start, saying why in one line.
    /// </summary>
    public static async Task AddHandlerHostAsync(this WebApplicationBuilder builder, WorkqOptions options)
    {
        var handlers = options.Handlers;
        // Handler Http is made here either way: in this process, or for the runners, which have no network of their
        // own.
        builder.Services.AddSingleton(_ => new HandlerHttp(handlers.HandlerEgress));
        builder.Services.AddHealthChecks()
            .AddCheck<SandboxHealthCheck>("sandbox", tags: [HealthChecks.Ready, HealthChecks.Facts]);
        if (handlers.Isolation == HandlerIsolation.None)
        {
            builder.Services.AddSingleton<IHandlerHost, InProcessHost>();
            builder.Services.AddSingleton(new SandboxInForce(RunnerSandbox.Off));
            return;
        }
        var runner = RunnerOptions.From(handlers, options.Emit, options.Traces);
        if (!File.Exists(runner.RunnerDll))
            throw new FileNotFoundException($"The runner {runner.RunnerDll} is missing: build or publish " +
                $"services/worker, which references services/runner.");
        var cgroups = RunnerCgroups.TryCreate(
            new RunnerLimits(handlers.RunnerCpus, handlers.RunnerMemoryMegabytes, handlers.RunnerPids),
            NullLogger.Instance);
        runner = runner with { Cgroups = cgroups };
        var probe = "";
        if (handlers.Sandbox == RunnerSandboxMode.Namespaces)
        {
            try
            {
                runner = runner with { Sandbox = RunnerSandbox.Create(runner.RunnerDll, runner.Host) };
                probe = await RunnerLaunch.ProbeAsync(runner, NullLogger.Instance, CancellationToken.None);
            }
            catch (SandboxUnavailableException e)
            {
                runner.Sandbox?.Dispose();
                cgroups?.Dispose();
                builder.RefuseToStart($"runner processes cannot start in their sandbox here: " +
                    $"{e.Message.TrimEnd('.')}. WORKQ_SANDBOX=off runs them without it " +
                    "(docs/security.md, \"The OS wall\").");
            }
        }
        builder.Services.AddSingleton(new SandboxInForce(runner.SandboxName));
        builder.Services.AddSingleton(services =>
        {
            var logger = services.GetRequiredService<ILogger<RunnerPool>>();
            logger.LogInformation("Handler code runs in a runner process per canvas: {Memory} MB, {Threads} threads, " +
                "limits {Limits}, sandbox {Sandbox}{Probe}",
                runner.MemoryMegabytes, runner.Threads, cgroups?.Kind
                    ?? "none (no writable cgroup: a lower CPU priority only)", runner.SandboxName,
                runner.Sandbox is null ? "" : $" as {runner.Sandbox.User}; the probe runner saw: {probe}");
            var launcher = new RunnerLauncher(runner, services.GetRequiredService<HandlerHttp>(), logger);
            return new RunnerPool(runner, launcher, services.GetRequiredService<TimeProvider>(), logger);
        });
        builder.Services.AddSingleton<IHandlerHost>(services => services.GetRequiredService<RunnerPool>());
        builder.Services.AddHostedService(services => services.GetRequiredService<RunnerPool>());
    }
}
