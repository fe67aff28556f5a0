using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Workq.Shared.Configuration;
using Workq.Shared.Hosting;

namespace Workq.Shared.Storage;

/// <summary>
/// Keeps event statuses off the hot path: a write is merged in memory with the pending one of the same event (so an
/// event that starts and finishes between two flushes is written once, finished) and a background loop writes them
/// all in one upsert a few times a second. Nothing waits for it: not the 202, not the ack.
/// </summary>
public sealed class EventStatusRecorder(EventStatusStore store, WorkqOptions options, ILogger<EventStatusRecorder> logger)
    : PeriodicWriter(TimeSpan.FromMilliseconds(200))
{
    // Past this many unwritten statuses (PostgreSQL away for long), a failed batch is dropped rather than kept: memory stays bounded.
    private const int MaxPending = 200_000;

    private readonly Lock gate = new();
    private Dictionary<(string Canvas, Guid Id), EventStatusUpdate> pending = [];

    public void Record(EventStatusUpdate update)
    {
        if (!options.EventStatus) return;
        lock (gate) Merge(update);
    }

    private void Merge(EventStatusUpdate update)
    {
        var key = (update.Canvas, update.Id);
        if (!pending.TryGetValue(key, out var old)) pending[key] = update;
        // A restart replaces the stored row; what follows it in the same flush keeps that, or it would not beat the row.
        else if (update.Supersedes(old)) pending[key] = update.After(old) with { Restart = update.Restart || old.Restart };
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        Dictionary<(string Canvas, Guid Id), EventStatusUpdate> batch;
        lock (gate)
        {
            if (pending.Count == 0) return;
            batch = pending;
            pending = [];
        }
        try
        {
            await store.UpsertAsync(batch.Values, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            lock (gate)
            {
                if (pending.Count + batch.Count > MaxPending)
                {
                    logger.LogError(e, "Could not write {Count} event statuses, and too many are waiting: these are dropped", batch.Count);
                    return;
                }
                logger.LogWarning(e, "Could not write {Count} event statuses; will retry", batch.Count);
                var since = pending;
                pending = batch;
                // What was recorded since the failed write is newer: merged on top.
                foreach (var update in since.Values) Merge(update);
            }
        }
    }
}

public static class EventStatusSetup
{
    public static IServiceCollection AddEventStatus(this IServiceCollection services)
    {
        services.AddSingleton<EventStatusStore>();
        services.AddSingleton<EventStatusRecorder>();
        services.AddHostedService(provider => provider.GetRequiredService<EventStatusRecorder>());
        return services;
    }
}
