using System.Threading.Channels;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// Group commit: the writes added while a transaction runs share the next one (up to <paramref name="max"/>), on one
/// connection, taken from <paramref name="slots"/>; one commit instead of one each. A write that fails fails the whole
/// group: each waiter gets the exception. The transactions run to their end whoever stops waiting for them.
/// </summary>
/// <param name="write">Writes a group in the transaction it is given; answers each result, in order.</param>
internal sealed class GroupCommit<TWrite, TResult>(
    NpgsqlDataSource db,
    SemaphoreSlim slots,
    int max,
    Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<TWrite>, Task<TResult[]>> write)
{
    private readonly Channel<(TWrite Write, TaskCompletionSource<TResult> Done)> pending =
        Channel.CreateUnbounded<(TWrite, TaskCompletionSource<TResult>)>(
            new UnboundedChannelOptions { SingleReader = true });

    private int writing;

    /// <summary>Adds <paramref name="item"/> to the next group; answers once that group committed.</summary>
    public Task<TResult> AddAsync(TWrite item, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending.Writer.TryWrite((item, done));
        if (Interlocked.CompareExchange(ref writing, 1, 0) == 0)
            _ = Task.Run(WriteAllAsync, CancellationToken.None);
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes what is pending, a group at a time, until nothing is; the next write starts it again.</summary>
    private async Task WriteAllAsync()
    {
        while (true)
        {
            var group = new List<(TWrite Write, TaskCompletionSource<TResult> Done)>();
            while (group.Count < max && pending.Reader.TryRead(out var next)) group.Add(next);
            if (group.Count == 0)
            {
                Volatile.Write(ref writing, 0);
                // One added between the read and the release found the loop running: take it up again.
                if (!pending.Reader.TryPeek(out _) || Interlocked.CompareExchange(ref writing, 1, 0) != 0) return;
                continue;
            }
            try
            {
                var results = await WriteAsync(group.ConvertAll(g => g.Write));
                for (var i = 0; i < group.Count; i++) group[i].Done.TrySetResult(results[i]);
            }
            catch (Exception e)
            {
                foreach (var (_, done) in group) done.TrySetException(e);
            }
        }
    }

    private async Task<TResult[]> WriteAsync(List<TWrite> group)
    {
        await slots.WaitAsync(CancellationToken.None);
        try
        {
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            var results = await write(connection, transaction, group);
            await transaction.CommitAsync(CancellationToken.None);
            return results;
        }
        finally
        {
            slots.Release();
        }
    }
}
