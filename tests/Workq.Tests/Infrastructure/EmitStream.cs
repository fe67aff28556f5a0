namespace Workq.Tests.Infrastructure;

/// <summary>
/// A steady stream of single emits to one worker, one per <c>interval</c> on each of <c>streams</c> loops: for the
/// tests that attack a canvas while another one runs beside it, and for the faults the cluster tests put the broker
/// through. It keeps what was accepted (202) and when, the 503s that came with Retry-After, and every other answer.
/// </summary>
public sealed class EmitStream : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<Guid, long> accepted = new();
    private readonly ConcurrentQueue<long> unavailable = new();
    private readonly ConcurrentQueue<string> failures = new();
    private readonly Task running;

    public EmitStream(
        WorkqCluster cluster,
        string canvas,
        string worker,
        string token,
        TimeSpan interval,
        Func<int, string> eventJson,
        int streams = 1)
    {
        var n = -1;
        running = Task.WhenAll(Enumerable.Range(0, streams).Select(_ =>
            Task.Run(() => RunAsync(
                cluster,
                canvas,
                worker,
                token,
                interval,
                () => eventJson(Interlocked.Increment(ref n)),
                stop.Token))));
    }

    /// <summary>Every emit that was not accepted.</summary>
    public int Errors => unavailable.Count + failures.Count;
    public int Count => accepted.Count;
    public bool Accepted(Guid id) => accepted.ContainsKey(id);
    public IReadOnlyList<Guid> AcceptedSoFar() => [.. accepted.Keys];

    /// <summary>Accepted events with the <see cref="Stopwatch"/> timestamp of their 202.</summary>
    public IReadOnlyDictionary<Guid, long> AcceptedAt => accepted;

    /// <summary>When each 503 with Retry-After came (<see cref="Stopwatch"/> timestamps).</summary>
    public IReadOnlyCollection<long> Unavailable => unavailable;

    /// <summary>
    /// Every answer that was neither a 202 nor a 503 with Retry-After, and every request that failed.
    /// </summary>
    public IReadOnlyCollection<string> Failures => failures;

    private async Task RunAsync(
        WorkqCluster cluster,
        string canvas,
        string worker,
        string token,
        TimeSpan interval,
        Func<string> eventJson,
        CancellationToken cancellationToken)
    {
        var url = cluster.EmitUrl($"/v1/canvases/{canvas}/workers/{worker}/events");
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                using var response = await cluster.SendAsync(HttpMethod.Post, url, token, eventJson());
                var status = (int)response.StatusCode;
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (status == 202) accepted[Guid.Parse(JsonNode.Parse(body)!["id"]!.GetValue<string>())] = Stopwatch
                    .GetTimestamp();
                else if (status == 503 && response.Headers.RetryAfter is not null) unavailable.Enqueue(
                    Stopwatch.GetTimestamp());
                else failures.Enqueue($"{status}: {body}");
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                failures.Enqueue(e.Message);
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
