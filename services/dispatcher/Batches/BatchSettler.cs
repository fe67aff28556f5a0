using Workq.Shared.Storage;

namespace Workq.Dispatcher.Batches;

/// <summary>
/// Counts batch members' finishes into their batches and finishes the batches that are done (API.md "Batches";
/// <see cref="BatchStore.SettleAsync"/>), so that recording a finish is one insert on the worker's ack path. Every
/// dispatcher runs it; they share the work (a batch another one holds is skipped). A pass that found a full page goes
/// again at once; otherwise the next one is <see cref="Every"/> later, which bounds how late a callback is.
/// </summary>
public sealed class BatchSettler(BatchStore batches, ILogger<BatchSettler> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan AfterFailure = TimeSpan.FromSeconds(1);
    private const int PerPass = 200;

    private void Failed(string canvas, Guid batch, Exception e) => logger.LogWarning(e,
        "Could not settle batch {Batch} of {Canvas}; its finishes wait for the next pass", batch, canvas);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await batches.SettleAsync(PerPass, Failed, stoppingToken) == PerPass) continue;
                await Task.Delay(Every, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not settle batches; will retry in {Delay}", AfterFailure);
                try
                {
                    await Task.Delay(AfterFailure, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
