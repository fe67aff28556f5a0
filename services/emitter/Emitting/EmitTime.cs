using System.Globalization;
using System.Text.RegularExpressions;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Emitter.Emitting;

/// <summary>
/// When an emitted event is to run: <c>delaySeconds</c> or <c>runAt</c>, at most one, up to 30 days ahead; null runs
/// now.
/// </summary>
public static partial class EmitTime
{
    public const string Delay = "delaySeconds", RunAt = "runAt";

    /// <summary>
    /// The time the event runs at (null: now); a past <c>runAt</c> runs now too. Else a problem naming the field.
    /// </summary>
    public static (DateTimeOffset? At, string? Problem) Resolve(double? delaySeconds, string? runAt, DateTimeOffset now)
    {
        TimeSpan? delay = null;
        if (delaySeconds is { } seconds)
        {
            if (!double.IsFinite(
                seconds)) return (null, $"\"{Delay}\" must be a number of seconds from 0 to " +
                    $"{EmitSchedule.MaxAhead.TotalSeconds:0}.");
            // Clamped first: TimeSpan cannot hold every double, and anything past the bound is refused alike.
            delay = TimeSpan.FromSeconds(Math.Clamp(seconds, -1, EmitSchedule.MaxAhead.TotalSeconds + 1));
        }
        DateTimeOffset? at = null;
        if (runAt is not null)
        {
            if (!IsoWithOffset().IsMatch(runAt)
                || !DateTimeOffset.TryParse(runAt, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                return (null, $"\"{RunAt}\" must be an ISO 8601 date and time with an offset, such as " +
                    $"2026-01-31T12:00:00Z or 2026-01-31T13:00:00+01:00.");
            at = parsed;
        }
        return EmitSchedule.Resolve(delay, at, now, Delay, RunAt);
    }

    /// <summary>
    /// The query parameters of a single emit, as given (null when absent). A '+' of an offset that was not URL-encoded
    /// arrives as a space: it is read as '+'.
    /// </summary>
    public static (DateTimeOffset? At, string? Problem) FromQuery(string? delaySeconds, string? runAt,
        DateTimeOffset now)
    {
        double? delay = null;
        if (delaySeconds is not null)
        {
            if (!double.TryParse(delaySeconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                var most = EmitSchedule.MaxAhead.TotalSeconds;
                return (null, $"\"{Delay}\" must be given once, as a number of seconds from 0 to {most:0}.");
            }
            delay = seconds;
        }
        return Resolve(delay, runAt?.Replace(' ', '+'), now);
    }

    [GeneratedRegex(
        @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})$",
        RegexOptions.IgnoreCase)]
    private static partial Regex IsoWithOffset();
}
