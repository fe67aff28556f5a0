using System.Diagnostics;
using MassTransit;
using Workq.Shared.Configuration;
using Workq.Shared.ControlPlane;
using Workq.Worker.Isolation;
using Workq.Worker.Runs;

namespace Workq.Worker.Instance;

/// <summary>
/// Tells control every half second how many events this instance runs per worker (<see cref="WorkerInstanceLoad"/>),
/// because the broker's unacked count only comes through the lagging management API, and what it consumes (for the
/// instances view). It reads the consumers' counters and nothing else: no cost per event. An idle instance reports
/// every second only, enough to stay listed (control forgets an instance after <c>InstanceLoads.AliveFor</c>, 2 s).
/// </summary>
public sealed class LoadReporter(
    InstanceHeartbeat instance,
    ConsumerLoads consumers,
    IHandlerHost host,
    PoolOptions options,
    HandlerOptions handlers,
    SandboxInForce sandbox,
    IBus bus,
    ILogger<LoadReporter> logger) : BackgroundService
{
    public static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(500);

    private readonly DateTimeOffset startedAt = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ReportEvery);
        var busy = false;
        var skipped = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var load = consumers.Now();
                // Idle twice in a row: every other tick is enough.
                if (load.Count == 0 && !busy && !skipped)
                {
                    skipped = true;
                    continue;
                }
                skipped = false;
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(ReportEvery);
                    var description = new InstanceDescription(
                        Environment.MachineName,
                        Environment.ProcessId,
                        startedAt,
                        options.Canvases.Patterns,
                        consumers.Describe(),
                        handlers.Isolation == HandlerIsolation.Canvas
                            ? "canvas"
                            : "none",
                        (host as RunnerPool)?.Describe(),
                        sandbox.Name);
                    // Worth nothing once the next one is due: not persisted, and dropped by the broker when late.
                    await bus.Publish(new WorkerInstanceLoad(instance.Id, load, description), context =>
                    {
                        context.Durable = false;
                        context.TimeToLive = 4 * ReportEvery;
                    }, timeout.Token);
                    busy = load.Count > 0;
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Load report not sent: {Reason}", e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
