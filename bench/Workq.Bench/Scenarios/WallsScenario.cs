namespace Workq.Bench.Scenarios;

/// <summary>
/// Scenario 9, issue 24's budget for the two walls: the worker service restarted with runner processes outside an OS
/// sandbox, then inside one (the default), each running the batch, the cold starts and the Http probe; and the Http
/// probe once more with handler code in the worker service itself, where <c>Http</c> is an ordinary client and nothing
/// is relayed.
/// </summary>
public sealed class WallsScenario(WorkqScenarios workq, BenchCluster cluster, BenchOptions options, byte[] payload)
{
    private const string Probe = "httpprobe";
    private const int Requests = 200;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public async Task<WallsResult> RunAsync(HttpClient http, WaitSink sink, CancellationToken cancellationToken)
    {
        // Sequential GETs of the sink's least answer, each timed inside the handler: what a handler waits per request.
        var code = $$"""
            var times = new List<double>();
            for (var i = 0; i < {{Requests}}; i++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var response = await Http.GetAsync("{{sink.PingUrl}}", CancellationToken);
                await response.Content.ReadAsStringAsync(CancellationToken);
                response.Dispose();
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            return times;
            """;
        await workq.Api.DeployAsync(WorkqScenarios.Canvas, Probe, code, 1, cancellationToken);

        var passes = new List<WallsPass>();
        foreach (var sandbox in new[] { "off", "namespaces" })
        {
            await cluster.RestartWorkerAsync("canvas", http, cancellationToken, sandbox);
            await workq.WaitConsumingAsync(cancellationToken);
            var batch = await workq.BatchAsync(cancellationToken);
            var probe = await ProbeAsync(cancellationToken);
            var cold = await new RunnerScenario(workq.Api, cluster, options, payload).RunAsync(sink, cancellationToken);
            passes.Add(new WallsPass(sandbox, batch, probe, cold));
        }
        await cluster.RestartWorkerAsync("none", http, cancellationToken);
        await workq.WaitConsumingAsync(cancellationToken);
        var inProcess = await ProbeAsync(cancellationToken);
        // Back to the default for whatever runs after.
        await cluster.RestartWorkerAsync("canvas", http, cancellationToken);
        await workq.WaitConsumingAsync(cancellationToken);
        return new WallsResult(passes, inProcess);
    }

    /// <summary>
    /// One probe event (after one unmeasured, which warms the connection and the JIT); its per-request times.
    /// </summary>
    private async Task<Latencies> ProbeAsync(CancellationToken cancellationToken)
    {
        await OneAsync(cancellationToken);
        return Latencies.Of(await OneAsync(cancellationToken));
    }

    /// <summary>
    /// Emits one probe event and returns its result: the per-request times of its trace, the first one not seen before.
    /// </summary>
    private async Task<List<double>> OneAsync(CancellationToken cancellationToken)
    {
        var traces = new Uri(workq.Api.ListUrl(WorkqScenarios.Canvas), $"workers/{Probe}/traces");
        HashSet<string?> seen;
        using (var before = await workq.Api.GetJsonAsync(traces, cancellationToken))
            seen = [.. before.RootElement.EnumerateArray().Select(t => t.GetProperty("eventId").GetString())];
        await workq.Api
            .EmitAsync(workq.Api.SingleUrl(WorkqScenarios.Canvas, Probe), "null"u8.ToArray(), cancellationToken);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            using var list = await workq.Api.GetJsonAsync(traces, cancellationToken);
            foreach (var trace in list.RootElement.EnumerateArray())
            {
                if (seen.Contains(trace.GetProperty("eventId").GetString())) continue;
                if (trace.GetProperty("status").GetString() != "completed") throw new InvalidOperationException(
                    $"The Http probe did not complete: {trace}");
                return [.. trace.GetProperty("result").EnumerateArray().Select(t => t.GetDouble())];
            }
            await Task.Delay(50, cancellationToken);
        }
        throw new TimeoutException($"The Http probe's trace did not appear within {Patience.TotalSeconds:0} s.");
    }
}
