using System.Collections.Concurrent;
using Npgsql;
using Workq.Shared.Configuration;
using Workq.Shared.Storage;

namespace Workq.Control.Events;

/// <summary>
/// Wakes the <c>?wait</c> requests of a canvas when a status flush touched it: one LISTEN connection for the whole
/// service, so waiting costs the database nothing per waiter. A lost connection (or notification) only slows the
/// waiters down to their fallback poll. The waits are bounded: at most <c>WORKQ_MAX_EVENT_WAITS</c> at once, and their
/// reads go a few at a time, so that a flush waking hundreds of them never asks the database for a connection each
/// (PostgreSQL refuses past max_connections, and a refused read would answer 503).
/// </summary>
public sealed class EventStatusWaiters(
    NpgsqlDataSource db,
    EventStatusOptions options,
    ILogger<EventStatusWaiters> logger) : BackgroundService
{
    /// <summary>
    /// Reads the waiters make at once; the service's other routes keep the rest of its connection pool.
    /// </summary>
    public const int ConcurrentReads = 8;

    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(1);
    // Notifications wake waiters; this bounds how late one is when a notification was lost.
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> changes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim reads = new(ConcurrentReads, ConcurrentReads);
    private int waiting;

    /// <summary>
    /// Takes one of the <c>WORKQ_MAX_EVENT_WAITS</c> places; false when none is free. Give it back with <see
    /// cref="Leave"/>.
    /// </summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref waiting) <= options.MaxWaits) return true;
        Interlocked.Decrement(ref waiting);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref waiting);

    /// <summary>A waiter's read of its event's status, among at most <see cref="ConcurrentReads"/> at once.</summary>
    public async Task<T> ReadAsync<T>(Func<Task<T>> read, CancellationToken cancellationToken)
    {
        await reads.WaitAsync(cancellationToken);
        try
        {
            return await read();
        }
        finally
        {
            reads.Release();
        }
    }

    /// <summary>
    /// Reads (among the waiters' few reads at once) until <paramref name="done"/> says so or <paramref name="wait"/>
    /// passed, reading again at each flush that touched the canvas, and at least every second in case a notification
    /// was lost; answers the last read.
    /// </summary>
    public async Task<T> WaitAsync<T>(
        string canvas,
        Func<Task<T>> read,
        Func<T, bool> done,
        TimeSpan wait,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + wait;
        while (true)
        {
            var changed = NextChange(canvas);
            var value = await ReadAsync(read, cancellationToken);
            var left = deadline - clock.GetUtcNow();
            if (done(value) || left <= TimeSpan.Zero) return value;
            await Task.WhenAny(changed, Task.Delay(left < Poll ? left : Poll, clock, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Completes at the next flush that touched <paramref name="canvas"/>. Taken before reading, so no flush falls
    /// between.
    /// </summary>
    public Task NextChange(string canvas) =>
        changes.GetOrAdd(canvas, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))
            .Task;

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
