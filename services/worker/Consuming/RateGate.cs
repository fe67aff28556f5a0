using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// Holds one consumer's deliveries until its worker's rate limit lets them run. Tokens come from the worker's bucket in
/// PostgreSQL (<see cref="RateBuckets"/>), shared by every instance, a grant at a time: a grant is the slots of the
/// next <see cref="Horizon"/>, so the database sees a few statements a second per limited worker and instance, never
/// one per event. A token unused <see cref="Horizon"/> after its slot is dropped, so no instance hoards a burst. A new
/// limit (PATCH, applied live) drops what was granted under the old one and wakes every waiter.
/// </summary>
public sealed class RateGate(string canvas, string worker, IRateBuckets buckets, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// How far ahead a grant reaches: the most a limit change, or a stopped instance, can leave unused.
    /// </summary>
    public const double Horizon = 0.5;
    private const int MaxGrant = 5_000;
    private static readonly TimeSpan RetryAfterError = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim turn = new(1, 1);
    private readonly Queue<double> tokens = new();
    private RateLimit? limit;
    private TaskCompletionSource changed = NewSignal();
    // Read and written under the turn only.
    private double nextGrantAt;
    private RateLimit? grantedUnder;

    public RateLimit? Limit
    {
        get => Volatile.Read(ref limit);
        set
        {
            if (Equals(Volatile.Read(ref limit), value)) return;
            Volatile.Write(ref limit, value);
            Interlocked.Exchange(ref changed, NewSignal()).TrySetResult();
        }
    }

    /// <summary>
    /// Returns once this delivery may run: at once without a limit, else when a token's slot has come.
    /// </summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        if (Limit is null) return;
        await turn.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var current = Limit;
                if (current is null) return;
                if (!current.Equals(grantedUnder))
                {
                    tokens.Clear();
                    nextGrantAt = 0;
                    grantedUnder = current;
                }
                var now = Now();
                while (tokens.TryPeek(out var stale) && stale < now - Horizon) tokens.Dequeue();
                if (tokens.TryPeek(out var slot))
                {
                    if (slot <= now)
                    {
                        tokens.Dequeue();
                        return;
                    }
                    await UntilAsync(slot - now, cancellationToken);
                }
                else if (nextGrantAt > now) await UntilAsync(nextGrantAt - now, cancellationToken);
                else await GrantAsync(current, cancellationToken);
            }
        }
        finally
        {
            turn.Release();
        }
    }

    private async Task GrantAsync(RateLimit current, CancellationToken cancellationToken)
    {
        RateGrant grant;
        try
        {
            var want = (int)Math.Clamp(Math.Ceiling(Horizon / current.Interval), 1, MaxGrant);
            grant = await buckets.GrantAsync(canvas, worker, current, want, Horizon, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The events wait in the queue rather than run past the limit.
            logger.LogWarning(
                e,
                "Could not draw rate-limit tokens for {Canvas}/{Worker}; retrying in {Delay}",
                canvas,
                worker,
                RetryAfterError);
            nextGrantAt = Now() + RetryAfterError.TotalSeconds;
            return;
        }
        // Slots in the database's clock, moved to this process's: the offset is taken at the answer, so clocks need not
        // agree.
        var now = Now();
        var offset = now - grant.Now;
        // A full bucket's slots lie in the past: they are usable from now, and go stale a horizon from now.
        for (
            var i = 0;
            i < grant.Tokens;
            i++) tokens.Enqueue(Math.Max(now, grant.First + i * current.Interval + offset));
        // Another instance holds the slots of the next horizon: come back when half a horizon of slots is free, so
        // grants stay a few tokens.
        if (grant.Tokens == 0) nextGrantAt = grant.First + offset - Horizon / 2;
    }

    /// <summary>Waits the given seconds, or less when the limit changes.</summary>
    private async Task UntilAsync(double seconds, CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref changed).Task;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue / 1000.0)), time, stop.Token);
        await Task.WhenAny(delay, signal);
        await stop.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private double Now() => time.GetTimestamp() / (double)time.TimestampFrequency;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
