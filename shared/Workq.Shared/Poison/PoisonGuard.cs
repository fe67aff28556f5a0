namespace Workq.Shared.Poison;

/// <summary>
/// Processes one message held by its consumer until it succeeds or proves to be poison, never in a hot loop. A failure
/// of the message's own (<see cref="Failures.IsTransient"/> false) is tried again after <see cref="Backoff"/>, at most
/// <see cref="MaxAttempts"/> times in all; then the message goes to quarantine, at once if it did not even pass the
/// consumer's checks (<see cref="PoisonMessageException"/>: trying again cannot change that). A failure of the database
/// or the broker is an outage: tried again with capped exponential backoff for as long as it lasts, the message kept,
/// logged by the <see cref="OutageLog"/> (once, and a summary a minute). Quarantine itself is retried the same way, so
/// nothing is dropped. Nothing here logs per attempt: the quarantine callback logs once per message.
/// </summary>
public sealed class PoisonGuard(OutageLog outage, TimeProvider? clock = null)
{
    public const int MaxAttempts = 3;
    public static readonly TimeSpan FirstOutageBackoff = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan MaxOutageBackoff = TimeSpan.FromSeconds(30);

    private readonly TimeProvider time = clock ?? TimeProvider.System;

    /// <summary>
    /// Before attempt <paramref name="attempt"/> + 1 of a message that failed on its own: 100 ms, then 400 ms.
    /// </summary>
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(100 * Math.Pow(4, attempt - 1));

    /// <summary>
    /// After the <paramref name="failures"/>th failure in a row of an outage: doubling from 200 ms up to 30 s, with a
    /// little jitter.
    /// </summary>
    public static TimeSpan OutageBackoff(int failures)
    {
        var capped = Math.Min(
            MaxOutageBackoff.TotalMilliseconds,
            FirstOutageBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 20)));
        return TimeSpan.FromMilliseconds(capped * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    /// <returns>True when <paramref name="process"/> succeeded, false when the message was quarantined.</returns>
    /// <exception cref="OperationCanceledException">Stopping: the message is neither processed nor
    /// quarantined.</exception>
    public async Task<bool> RunAsync(
        Func<CancellationToken, Task> process,
        Func<PoisonFailure, CancellationToken, Task> quarantine,
        CancellationToken cancellationToken)
    {
        var attempts = 0;
        var outageFailures = 0;
        DateTimeOffset? firstFailedAt = null;
        while (true)
        {
            try
            {
                await process(cancellationToken);
                outage.Succeeded();
                return true;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && Failures.IsTransient(e))
            {
                outage.Failed(e);
                await Task.Delay(OutageBackoff(++outageFailures), time, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The database or broker answered, with a refusal of this message: whatever outage there was is over.
                outage.Succeeded();
                outageFailures = 0;
                firstFailedAt ??= time.GetUtcNow();
                if (++attempts >= MaxAttempts || e is PoisonMessageException)
                {
                    await KeepTryingAsync(
                        token => quarantine(new PoisonFailure(e, attempts, firstFailedAt.Value), token),
                        cancellationToken);
                    return false;
                }
                await Task.Delay(Backoff(attempts), time, cancellationToken);
            }
            // Stopping as it failed: the failure is not the message's, and stopping ends as stopping does.
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new OperationCanceledException("stopping", e, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> until it succeeds, with the outage backoff between tries (what must not be
    /// dropped).
    /// </summary>
    public async Task KeepTryingAsync(Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                await action(cancellationToken);
                outage.Succeeded();
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                outage.Failed(e);
                await Task.Delay(OutageBackoff(failures), time, cancellationToken);
            }
        }
    }
}
