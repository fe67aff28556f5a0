using Microsoft.Extensions.Logging;

namespace Workq.Shared.Poison;

/// <summary>
/// What a component logs while the database or the broker is away: one warning when the outage starts, a summary every
/// <see cref="SummaryEvery"/> while it lasts, and one line when it ends. Never a line per attempt: a loop that retries
/// every few hundred milliseconds would otherwise fill the disk.
/// </summary>
public sealed class OutageLog(ILogger logger, string what, TimeProvider? clock = null)
{
    public static readonly TimeSpan SummaryEvery = TimeSpan.FromMinutes(1);

    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private readonly Lock gate = new();
    private DateTimeOffset? since;
    private DateTimeOffset lastSummary;
    private long failures;

    /// <summary>True while an outage is going on (a failure since the last success).</summary>
    public bool IsFailing
    {
        get
        {
            lock (gate) return since is not null;
        }
    }

    public void Failed(Exception e)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            failures++;
            if (since is not { } start)
            {
                since = lastSummary = now;
                logger.LogWarning(
                    "{What} failed ({Error}); retrying with backoff, and logging a summary every minute until it " +
                    "works again",
                    what, Failures.Describe(e));
                return;
            }
            if (now - lastSummary < SummaryEvery) return;
            lastSummary = now;
            logger.LogWarning(
                "{What} still failing after {Seconds:0} s and {Failures} tries: {Error}",
                what,
                (now - start).TotalSeconds,
                failures,
                Failures.Describe(e));
        }
    }

    public void Succeeded()
    {
        lock (gate)
        {
            if (since is not { } start) return;
            logger.LogInformation("{What} works again after {Seconds:0.0} s and {Failures} failed tries", what,
                (time.GetUtcNow() - start).TotalSeconds, failures);
            since = null;
            failures = 0;
        }
    }
}
