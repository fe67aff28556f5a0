namespace Workq.Shared.Poison;

/// <summary>
/// Writes a batch of rows (statuses, traces, counters, metrics) so that one bad row never blocks the others: in one
/// write, and when that fails for a row's own reasons (<see cref="Failures.IsTransient"/> false), in halves, down to
/// single rows. The good rows land; each bad one goes to quarantine. An outage stops the split: the rows not written
/// yet are returned, to be tried again with the next flush (as is what stopping interrupts).
/// </summary>
public static class BatchSplitter
{
    public static async Task<SplitResult<T>> WriteAsync<T>(
        IReadOnlyList<T> rows,
        Func<IReadOnlyList<T>, CancellationToken, Task> write,
        Func<T, Exception, CancellationToken, Task> quarantine,
        CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return SplitResult<T>.Done;
        // The parts still to write, the first on top: rows keep their order.
        var parts = new Stack<ArraySegment<T>>();
        parts.Push(new ArraySegment<T>(rows as T[] ?? [.. rows]));
        while (parts.TryPop(out var part))
        {
            try
            {
                await write(part, cancellationToken);
            }
            catch (Exception e) when (!Failures.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (part.Count > 1)
                {
                    var half = part.Count / 2;
                    parts.Push(part[half..]);
                    parts.Push(part[..half]);
                    continue;
                }
                try
                {
                    await quarantine(part[0], e, cancellationToken);
                }
                catch (Exception outage)
                {
                    return Unwritten(part, parts, outage);
                }
            }
            catch (Exception e)
            {
                // An outage, or stopping: what is not written yet is handed back, and what is written is not written
                // twice.
                return Unwritten(part, parts, e);
            }
        }
        return SplitResult<T>.Done;
    }

    private static SplitResult<T> Unwritten<T>(ArraySegment<T> part, Stack<ArraySegment<T>> rest, Exception outage) =>
        new([.. part, .. rest.SelectMany(p => p)], outage);
}
