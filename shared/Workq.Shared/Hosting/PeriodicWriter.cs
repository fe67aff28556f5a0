using Microsoft.Extensions.Hosting;

namespace Workq.Shared.Hosting;

/// <summary>
/// A recorder that keeps what it is given in memory and writes it in one batch every <paramref name="every"/>, and once
/// more when the service stops, so what finished during shutdown is still written.
/// </summary>
public abstract class PeriodicWriter(TimeSpan every) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes everything recorded so far.</summary>
    public abstract Task FlushAsync(CancellationToken cancellationToken);
}
