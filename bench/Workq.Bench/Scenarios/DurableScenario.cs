using System.Text;
using System.Text.Json;

namespace Workq.Bench.Scenarios;

/// <summary>
/// Scenario 11 (issue 29): events of a durable handler that runs 100 steps, then sleeps 3 s. The first run runs and
/// keeps each step (a write per step); the resume replays all 100 from one read and returns. The figures are the two
/// runs' durations, from their traces: what 100 steps cost kept, and what their replay costs.
/// </summary>
public sealed class DurableScenario(WorkqApi api)
{
    private const string Canvas = "bench-durable";
    private const string Worker = "steps";
    private const int Events = 10;

    public async Task<DurableResult> RunAsync(CancellationToken cancellationToken)
    {
        await api.CreateCanvasAsync(Canvas, cancellationToken);
        try
        {
            await api.DeployAsync(Canvas, Worker, """
                var sum = 0;
                for (var i = 0; i < 100; i++) sum += await Step("add", async () => i);
                await Sleep(TimeSpan.FromSeconds(3));
                return sum;
                """, Events, cancellationToken);
            var items = string.Join(",", Enumerable.Repeat($$"""{"worker":"{{Worker}}","event":null}""", Events));
            using var accepted = await api.PostJsonAsync(api.BatchUrl(Canvas), $"[{items}]", cancellationToken);
            var ids = accepted.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetGuid()).ToList();
            var first = await DurationsAsync(resume: 0, cancellationToken);
            foreach (var id in ids)
            {
                using var status = await api.GetJsonAsync(api.EventUrl(Canvas, id, wait: 30), cancellationToken);
                if (status.RootElement.GetProperty("status").GetString() != "completed")
                    throw new InvalidOperationException($"a durable event did not complete: {status.RootElement}");
            }
            var replay = await DurationsAsync(resume: 1, cancellationToken);
            return new DurableResult(Events, Median(first), Median(replay));
        }
        finally
        {
            await api.DeleteCanvasAsync(Canvas, CancellationToken.None);
        }
    }

    /// <summary>The durations of the kept runs with this resume number, once all of them are traced.</summary>
    private async Task<List<double>> DurationsAsync(int resume, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            using var traces = await api.GetJsonAsync(
                new Uri(api.ListUrl(Canvas), $"workers/{Worker}/traces"), cancellationToken);
            var runs = traces.RootElement.EnumerateArray()
                .Where(t => t.GetProperty("resume").GetInt32() == resume)
                .Select(t => t.GetProperty("durationMs").GetDouble())
                .ToList();
            if (runs.Count >= Events) return runs;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{runs.Count} of {Events} runs with resume {resume} traced in a minute");
            await Task.Delay(200, cancellationToken);
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
