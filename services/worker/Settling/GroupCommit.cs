namespace Workq.Worker.Settling;

/// <summary>
/// Writes items of many runs together: one write at a time, each taking everything that arrived while the previous
/// one ran (after <paramref name="linger"/>, for the runs ending with the first), so that a database sees a statement
/// per write, not per run, and no more connections than one. Each item's task ends with its write: done, or faulted
/// with the write's exception.
/// </summary>
public sealed class GroupCommit<T>(Func<List<T>, Task> write, TimeSpan linger)
{
    private readonly Lock gate = new();
    private List<(T Item, TaskCompletionSource Done)> pending = [];
    private bool writing;

    public Task AddAsync(T item)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            pending.Add((item, done));
            if (writing) return done.Task;
            writing = true;
        }
        _ = WriteAsync();
        return done.Task;
    }

    private async Task WriteAsync()
    {
        while (true)
        {
            await Task.Delay(linger);
            List<(T Item, TaskCompletionSource Done)> taken;
            lock (gate)
            {
                if (pending.Count == 0)
                {
                    writing = false;
                    return;
                }
                (taken, pending) = (pending, []);
            }
            Exception? error = null;
            try
            {
                await write(taken.ConvertAll(t => t.Item));
            }
            catch (Exception e)
            {
                error = e;
            }
            foreach (var (_, done) in taken)
                if (error is null) done.TrySetResult();
                else done.TrySetException(error);
        }
    }
}
