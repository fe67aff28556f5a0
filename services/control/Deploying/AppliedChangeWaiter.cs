using Workq.Shared.Storage;

namespace Workq.Control.Deploying;

/// <summary>
/// A deploy, a settings change or a state change answers once every live worker instance has applied
/// it: after a pause nothing new starts, after a deploy new events run the new code. Bounded, so an
/// instance that died without saying so (it stays "live" for a few seconds) cannot hold an answer up.
/// </summary>
public sealed class AppliedChangeWaiter(InstanceStore instances, ILogger<AppliedChangeWaiter> logger)
{
    public static readonly TimeSpan WaitAtMost = TimeSpan.FromSeconds(3);

    public async Task WaitAsync(WorkerRecord worker, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + WaitAtMost;
        int lagging;
        while ((lagging = await instances.LaggingAsync(
            worker.Canvas,
            worker.Name,
            worker.Change,
            cancellationToken)) > 0)
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                logger.LogWarning("{Lagging} worker instance(s) had not applied change {Change} of {Canvas}/{Worker} " +
                    "after {Seconds} s",
                    lagging, worker.Change, worker.Canvas, worker.Name, WaitAtMost.TotalSeconds);
                return;
            }
            await Task.Delay(15, cancellationToken);
        }
    }
}
