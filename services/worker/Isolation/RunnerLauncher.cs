using Workq.Shared.Handlers.Scripting;

namespace Workq.Worker.Isolation;

/// <summary>Starts runner processes with the service's runner options and the canvas's handler Http.</summary>
public sealed class RunnerLauncher(RunnerOptions options, HandlerHttp http, ILogger logger) : IRunnerLauncher
{
    public async Task<IRunner> StartAsync(string canvas) =>
        await RunnerProcess.StartAsync(canvas, options, http.InvokerFor(canvas), logger);
}
