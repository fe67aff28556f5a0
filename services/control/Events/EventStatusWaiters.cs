using System.Collections.Concurrent;
using Npgsql;
using Workq.Shared.Storage;

namespace Workq.Control.Events;

/// <summary>
/// Wakes the <c>?wait</c> requests of a canvas when a status flush touched it: one LISTEN connection for the whole
/// service, so waiting costs the database nothing per waiter. A lost connection (or notification) only slows the
/// waiters down to their fallback poll.
/// </summary>
public sealed class EventStatusWaiters(NpgsqlDataSource db, ILogger<EventStatusWaiters> logger) : BackgroundService
{
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> changes = new(StringComparer.Ordinal);

    /// <summary>Completes at the next flush that touched <paramref name="canvas"/>. Taken before reading, so no flush falls between.</summary>
    public Task NextChange(string canvas) =>
        changes.GetOrAdd(canvas, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private void Wake(string canvas)
    {
        if (changes.TryRemove(canvas, out var change)) change.TrySetResult();
    }

    private void WakeAll()
    {
        foreach (var canvas in changes.Keys) Wake(canvas);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (e.Payload.Length == 0) WakeAll();
                    else foreach (var canvas in e.Payload.Split(',')) Wake(canvas);
                };
                await using (var listen = new NpgsqlCommand($"listen {EventStatusStore.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                // What changed while not listening is unknown: every waiter reads again.
                WakeAll();
                while (true) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Lost the event status notifications; waiters poll until they are back");
                try
                {
                    await Task.Delay(Reconnect, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
