using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Workq.Bench.Scenarios;

/// <summary>
/// Scenario 10 (issue 28): a batch of <see cref="BenchOptions.BigBatchEvents"/> events, created open, filled by adds of
/// 1,000 (four at once) and closed; each event's handler returns the time it ended, and the batch's onComplete reads
/// every result (<c>Batch.Results()</c>) and reports how long after the last end it started. That lag is the figure:
/// the last member's end made durable, the batch counted exactly and finished, its callback published by the pump and
/// delivered.
/// </summary>
public sealed class BigBatchScenario(WorkqApi api, BenchOptions options)
{
    private const string Canvas = "bench-batch";
    private const string Stamp = "stamp";
    private const string Gap = "gap";
    private const int PerAdd = 1_000;

    public async Task<BigBatchResult> RunAsync(CancellationToken cancellationToken)
    {
        await api.CreateCanvasAsync(Canvas, cancellationToken);
        try
        {
            await api.DeployAsync(Canvas, Stamp, "return DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();",
                options.Prefetch, cancellationToken);
            await api.DeployAsync(Canvas, Gap, """
                var started = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                long last = 0, read = 0;
                await foreach (var r in Batch!.Results())
                {
                    read++;
                    if (r.Result is { } ended) last = Math.Max(last, ended.GetValue<long>());
                }
                return new { lagMs = started - last, read,
                    readMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - started,
                    total = Batch.Total, completed = Batch.Completed };
                """, 1, cancellationToken);
            var clock = Stopwatch.StartNew();
            using var created = await api.PostJsonAsync(api.BatchesUrl(Canvas),
                $$$"""{"events": [], "open": true, "onComplete": {"worker": "{{{Gap}}}", "event": null}}""",
                cancellationToken);
            var batch = created.RootElement.GetProperty("batchId").GetGuid();
            var items = new StringBuilder("[");
            for (var i = 0; i < PerAdd; i++)
                items.Append(i == 0 ? "" : ",").Append($$$"""{"worker":"{{{Stamp}}}","event":{{{i}}}}""");
            var body = Encoding.UTF8.GetBytes(items.Append(']').ToString());
            var adds = Math.Max(1, options.BigBatchEvents / PerAdd);
            await WorkqScenarios.EmitBatchesAsync(api, new Uri(api.BatchesUrl(Canvas), $"batches/{batch}/events"),
                body, adds, 4, cancellationToken);
            var added = clock.Elapsed;
            using (await api.PostJsonAsync(new Uri(api.BatchesUrl(Canvas), $"batches/{batch}/close"), "",
                cancellationToken)) { }
            using var batchRow = await api.GetJsonAsync(api.BatchUrlOf(Canvas, batch, wait: 0), cancellationToken);
            var callback = batchRow.RootElement.GetProperty("onComplete").GetProperty("eventId").GetGuid();
            while (true)
            {
                using var status = await api.GetJsonAsync(api.EventUrl(Canvas, callback, wait: 30), cancellationToken);
                if (status.RootElement.GetProperty("status").GetString() is "completed" or "failed" or "timedOut")
                {
                    var result = status.RootElement.GetProperty("result");
                    if (result.ValueKind != JsonValueKind.Object)
                        throw new InvalidOperationException($"the callback did not complete: {status.RootElement}");
                    return new BigBatchResult(
                        (long)adds * PerAdd,
                        added.TotalSeconds,
                        clock.Elapsed.TotalSeconds,
                        result.GetProperty("lagMs").GetDouble(),
                        result.GetProperty("readMs").GetDouble(),
                        result.GetProperty("read").GetInt64(),
                        result.GetProperty("completed").GetInt64());
                }
                if (clock.Elapsed > TimeSpan.FromMinutes(10))
                    throw new TimeoutException(
                        $"the batch's callback did not run within 10 minutes: {status.RootElement}");
            }
        }
        finally
        {
            await api.DeleteCanvasAsync(Canvas, CancellationToken.None);
        }
    }
}
