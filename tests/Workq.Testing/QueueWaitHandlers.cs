namespace Workq.Testing;

/// <summary>
/// Handler code that measures its event's queue wait (from the emit to the handler's first line, on the worker's clock,
/// which is also the emitter's: one machine) and posts it to a sink. The bench deploys it; the unit tests compile it
/// under the handler guard.
/// </summary>
public static class QueueWaitHandlers
{
    /// <summary>One report per event, sent at once: for a lone event, which a batch would hold back.</summary>
    public static string EachEvent(string sinkUrl) => $$"""
        var waitMs = (DateTimeOffset.UtcNow - Meta.EnqueuedAt).TotalMilliseconds;
        (await Http.PostAsync(
            "{{sinkUrl}}",
            new StringContent(waitMs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            CancellationToken)).Dispose();
        return null;
        """;

    /// <summary>
    /// Reports in batches (every 200 runs or 100 ms), so that measuring costs the worker next to nothing under load.
    /// Each line also gives the event's enqueue time (Unix milliseconds), so that a slow stretch can be placed in
    /// time.
    /// </summary>
    public static string Batched(string sinkUrl) => $$"""
        var waitMs = (DateTimeOffset.UtcNow - Meta.EnqueuedAt).TotalMilliseconds;
        if (Waits.Add(waitMs, Meta.EnqueuedAt.ToUnixTimeMilliseconds()) is { } batch)
            (await Http.PostAsync("{{sinkUrl}}", new StringContent(batch), CancellationToken)).Dispose();
        return null;

        static class Waits
        {
            private static readonly object Gate = new();
            private static readonly System.Text.StringBuilder Pending = new();
            private static int count;
            private static DateTimeOffset sentAt = DateTimeOffset.UtcNow;

            public static string? Add(double waitMs, long enqueuedAt)
            {
                lock (Gate)
                {
                    Pending.Append(waitMs.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        .Append(' ').Append(enqueuedAt).Append('\n');
                    if (++count < 200 && DateTimeOffset.UtcNow - sentAt < TimeSpan.FromMilliseconds(100))
                        return null;
                    var batch = Pending.ToString();
                    Pending.Clear();
                    count = 0;
                    sentAt = DateTimeOffset.UtcNow;
                    return batch;
                }
            }
        }
        """;
}
