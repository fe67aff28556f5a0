using System.Collections.Concurrent;

namespace Workq.Tests.Infrastructure;

/// <summary>
/// A steady stream of single emits to one worker, one per <c>interval</c>, for the tests that attack a canvas while
/// another one runs beside it: what was accepted (202) and how many emits failed.
/// </summary>
public sealed class EmitStream : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<Guid, bool> accepted = new();
    private readonly Task running;
    private int errors;

    public EmitStream(WorkqCluster cluster, string canvas, string worker, string token, TimeSpan interval, Func<int, string> eventJson) =>
        running = Task.Run(() => RunAsync(cluster, canvas, worker, token, interval, eventJson, stop.Token));

    public int Errors => Volatile.Read(ref errors);
    public int Count => accepted.Count;
    public bool Accepted(Guid id) => accepted.ContainsKey(id);
    public IReadOnlyList<Guid> AcceptedSoFar() => [.. accepted.Keys];

    private async Task RunAsync(WorkqCluster cluster, string canvas, string worker, string token, TimeSpan interval, Func<int, string> eventJson, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        var n = 0;
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                accepted[await cluster.EmitAsync(canvas, worker, eventJson(n++), token)] = true;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref errors);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
            // The stream stops by cancellation.
        }
        stop.Dispose();
    }
}
