using MassTransit;
using Workq.Control.Compiling;
using Workq.Shared.ControlPlane;
using Workq.Shared.Storage;

namespace Workq.Control.Deploying;

/// <summary>
/// Compiles, once at start, the workers a release before stored assemblies left without one, so that worker instances
/// (which no longer compile) can run them. Code that no longer compiles stays as it is and is not consumed.
/// </summary>
public sealed class AssemblyBackfill(
    WorkerStore store,
    CompilerPool compilers,
    IBus controlPlane,
    ILogger<AssemblyBackfill> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            foreach (var worker in await store.ListUncompiledAsync(stoppingToken))
            {
                var compiled = await compilers.CompileAsync(worker.Code, stoppingToken);
                if (!compiled.Succeeded)
                {
                    logger.LogError("{Canvas}/{Worker} v{Version} does not compile ({Status}, {Errors} error(s)); it " +
                        "is not run until it is deployed again",
                        worker.Canvas, worker.Name, worker.Version, compiled.Status, compiled.Errors.Count);
                    continue;
                }
                if (!await store.SaveAssemblyAsync(
                    worker.Canvas,
                    worker.Name,
                    worker.Version,
                    compiled.Assembly,
                    stoppingToken)) continue;
                await controlPlane.Publish(new WorkerChanged(worker.Canvas, worker.Name), stoppingToken);
                logger.LogInformation(
                    "{Canvas}/{Worker} v{Version} compiled for the runners",
                    worker.Canvas,
                    worker.Name,
                    worker.Version);
            }
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning(
                e,
                "Compiling the workers deployed without an assembly failed; they are compiled on the next start");
        }
    }
}
