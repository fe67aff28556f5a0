namespace Workq.Shared.Handlers.Messaging;

/// <summary>The rules of a delayed emit, the same for the emit API and for handlers' <c>Emit</c>.</summary>
public static class EmitSchedule
{
    /// <summary>
    /// How far ahead an event may be scheduled: delayed events wait in PostgreSQL, so this bounds how long a row lives.
    /// </summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(30);

    /// <summary>
    /// The time the event runs at, or null to run it now (no delay, a zero one, or a past <paramref name="runAt"/>);
    /// else a problem naming the field at fault.
    /// </summary>
    public static (DateTimeOffset? At, string? Problem) Resolve(
        TimeSpan? delay,
        DateTimeOffset? runAt,
        DateTimeOffset now,
        string delayField,
        string runAtField)
    {
        if (delay is not null
            && runAt is not null) return (null, $"Give \"{delayField}\" or \"{runAtField}\", not both.");
        if (delay is { } wait)
        {
            if (wait < TimeSpan.Zero) return (null, $"\"{delayField}\" must not be negative.");
            if (wait > MaxAhead) return (null, $"\"{delayField}\" is more than {MaxAhead.TotalDays:0} days " +
                $"({MaxAhead.TotalSeconds:0} seconds); schedule at most {MaxAhead.TotalDays:0} days ahead.");
            return (wait > TimeSpan.Zero ? now + wait : null, null);
        }
        if (runAt is not { } at) return (null, null);
        if (at - now > MaxAhead) return (null, $"\"{runAtField}\" is more than {MaxAhead.TotalDays:0} days ahead; " +
            $"schedule at most {MaxAhead.TotalDays:0} days ahead.");
        return (at > now ? at : null, null);
    }
}
