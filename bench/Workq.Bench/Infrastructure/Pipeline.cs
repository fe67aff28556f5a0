namespace Workq.Bench.Infrastructure;

public static class Pipeline
{
    /// <summary>
    /// Runs <paramref name="count"/> operations with at most <paramref name="window"/> in flight: a sliding
    /// window keeps the pipeline full (e.g. of unconfirmed publishes) without starting everything at once.
    /// </summary>
    public static async Task RunAsync(
        int count,
        int window,
        Func<int, Task> operation,
        CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(window);
        var pending = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync(cancellationToken);
            pending.Add(RunOneAsync(i));
        }
        await Task.WhenAll(pending);

        async Task RunOneAsync(int index)
        {
            try
            {
                await operation(index);
            }
            finally
            {
                gate.Release();
            }
        }
    }
}
