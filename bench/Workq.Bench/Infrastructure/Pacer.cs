namespace Workq.Bench.Infrastructure;

/// <summary>
/// Emits events to one worker at a steady rate: every 5 ms, a batch of as many as are due, without waiting for the
/// previous batch's 202. The bench paces in its own process, and in a process of its own (<c>pace</c>, see <see
/// cref="RunAsync(string[], CancellationToken)"/>) so that the emitter's load is not the bench's.
/// </summary>
public sealed class Pacer(WorkqApi api, Uri url, byte[] payload, string worker, double rate)
{
    private readonly Dictionary<int, byte[]> bodies = [];

    /// <summary>
    /// Paces for <paramref name="duration"/>; returns how many events were sent (every one answered 202).
    /// </summary>
    public async Task<long> PaceAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var pending = new List<Task>();
        var clock = Stopwatch.StartNew();
        long count = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        while (clock.Elapsed < duration && await timer.WaitForNextTickAsync(cancellationToken))
        {
            var due = (long)(rate * clock.Elapsed.TotalSeconds) - count;
            if (due <= 0) continue;
            var batch = (int)Math.Min(due, 1_000);
            count += batch;
            pending.Add(api.EmitAsync(url, BodyOf(batch), cancellationToken));
        }
        await Task.WhenAll(pending);
        return count;
    }

    /// <summary>One event on its own: a handler that batches its reports sends what it holds.</summary>
    public Task EmitOneAsync(CancellationToken cancellationToken) => api.EmitAsync(url, BodyOf(1), cancellationToken);

    private byte[] BodyOf(int count)
        => bodies.TryGetValue(count, out var body) ? body : bodies[count] = Payloads.Batch(payload, count, [worker]);

    public const string Mode = "pace";

    /// <summary>
    /// <c>Workq.Bench.dll pace EMIT_URL WORKER RATE SECONDS EVENT_BYTES</c>, the token in WORKQ_BENCH_PACE_TOKEN:
    /// paces as the bench does, then prints how many events it sent.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args.Length != 6) throw new ArgumentException($"usage: {Mode} EMIT_URL WORKER RATE SECONDS EVENT_BYTES");
        var url = new Uri(args[1]);
        using var http = WorkqApi.CreateLoadClient(256);
        var token = Environment.GetEnvironmentVariable(TokenVariable)
            ?? throw new ArgumentException($"{TokenVariable} is not set");
        var api = new WorkqApi(http, url, url, token);
        var pacer = new Pacer(
            api,
            url,
            Payloads.Event(int.Parse(args[5], CultureInfo.InvariantCulture)),
            args[2],
            double.Parse(args[3], CultureInfo.InvariantCulture));
        var sent = await pacer.PaceAsync(
            TimeSpan.FromSeconds(double.Parse(args[4], CultureInfo.InvariantCulture)),
            cancellationToken);
        Console.Out.WriteLine(sent.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    public const string TokenVariable = "WORKQ_BENCH_PACE_TOKEN";
}
