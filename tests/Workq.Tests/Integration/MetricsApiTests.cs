using Workq.Shared.Storage;
using MetricsPoint = Workq.Tests.Models.MetricsPoint;

namespace Workq.Tests.Integration;

/// <summary>API.md "Metrics": per-minute aggregates per worker and per canvas, after a known load.</summary>
[Collection(ClusterCollection.Name)]
public sealed class MetricsApiTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// From ten minutes ago to a minute ahead (twelve minutes), fixed once per test so every read has the same points.
    /// </summary>
    private static string RecentRange()
    {
        var now = DateTime.UtcNow;
        return $"from={Uri.EscapeDataString(now.AddMinutes(-10).ToString("O"))}"
            + $"&to={Uri.EscapeDataString(now.AddMinutes(1).ToString("O"))}";
    }

    private async Task<IReadOnlyList<MetricsPoint>> PointsAsync(string path, string? token = null) =>
        (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl(path), token ?? cluster.AdminToken))
            .As<MetricsAnswer>().Points;

    private static long Sum(IReadOnlyList<MetricsPoint> points, Func<MetricsPoint, long> field) => points.Sum(field);

    private Task<IReadOnlyList<MetricsPoint>> SettledAsync(
        string path,
        Func<MetricsPoint, long> field,
        long expected,
        string what) =>
        cluster.EventuallyAsync(() => PointsAsync(path), points => Sum(points, field) == expected, Patience, what);

    [Fact]
    public async Task Counts_per_minute_add_up_and_the_canvas_is_the_sum_of_its_workers()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("metrics");
        await cluster.DeployAsync(canvas, "leaf", "return 1;", token: token);
        await cluster.DeployAsync(
            canvas,
            "fan",
            "await Emit(\"leaf\", 1); await Emit(\"leaf\", 2); return null;",
            token: token);
        await cluster.DeployAsync(canvas, "bad", "throw new InvalidOperationException(\"no\");", token: token);
        await cluster.DeployAsync(
            canvas,
            "slow",
            "await Task.Delay(TimeSpan.FromSeconds(30), CancellationToken); return null;",
            token: token);
        // One attempt: each failure of "bad" is a dead letter at once.
        await cluster.JsonAsync(
            HttpMethod.Patch,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bad"),
            token,
            """{"retry":{"maxAttempts":1,"backoffSeconds":[]}}""");

        await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 7).Select(i => ("fan", i.ToString()))
            .Concat(Enumerable.Range(0, 4).Select(i => ("bad", i.ToString()))).Append(("slow", "0")), token);

        var recent = RecentRange();
        string Worker(string name) => $"/v1/canvases/{canvas}/workers/{name}/metrics?{recent}";
        var fan = await SettledAsync(Worker("fan"), p => p.Processed, 7, "7 runs of fan");
        Assert.Equal(14, Sum(fan, p => p.Emitted));
        Assert.Equal(0, Sum(fan, p => p.Failed));
        var leaf = await SettledAsync(Worker("leaf"), p => p.Processed, 14, "14 runs of leaf");
        var bad = await SettledAsync(Worker("bad"), p => p.DeadLettered, 4, "4 dead letters of bad");
        Assert.Equal(4, Sum(bad, p => p.Processed));
        Assert.Equal(4, Sum(bad, p => p.Failed));
        var slow = await SettledAsync(Worker("slow"), p => p.TimedOut, 1, "the time-out of slow");
        Assert.Equal(1, Sum(slow, p => p.Failed));

        var whole = await PointsAsync($"/v1/canvases/{canvas}/metrics?{recent}", token);
        Assert.Equal(12, whole.Count);
        var workers = new[] { fan, leaf, bad, slow };
        foreach (var field in new Func<MetricsPoint, long>[]
        {
            p => p.Processed, p => p.Failed, p => p.TimedOut, p => p.DeadLettered, p => p.Emitted,
        })
            for (var i = 0; i < whole.Count; i++)
                Assert.Equal(workers.Sum(w => field(w[i])), field(whole[i]));
        // Every point is a minute, oldest first; a minute without runs has no percentiles.
        Assert.All(whole.Zip(whole.Skip(1)), pair => Assert.Equal(pair.First.At.AddMinutes(1), pair.Second.At));
        Assert.Contains(whole, p => p.Processed == 0 && p.DurationMs.P50 is null);
    }

    [Fact]
    public async Task Percentiles_are_those_of_the_traces_within_a_bucket()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("pct");
        await cluster.DeployAsync(canvas, "nap", "await Task.Delay(20, CancellationToken); return null;", token: token);
        await cluster.EmitAsync(canvas, "nap", "1", token);
        var points = await SettledAsync(
            $"/v1/canvases/{canvas}/workers/nap/metrics?{RecentRange()}",
            p => p.Processed,
            1,
            "one run of nap");
        // A flush writes the minute's counts before the traces, so the trace may land a moment after the count.
        var trace = (await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "nap"),
            t => t.Count == 1,
            TimeSpan.FromSeconds(10),
            "the trace of nap's run")).Single();

        var point = points.Single(p => p.Processed == 1);
        foreach (var (percentiles, measured) in new[] {
            (point.DurationMs, trace.DurationMs),
            (point.QueueWaitMs, trace.QueueWaitMs) })
            foreach (var value in new[] { percentiles.P50, percentiles.P95, percentiles.P99 })
            {
                // One sample: every percentile is the middle of the bucket that sample fell in.
                Assert.NotNull(value);
                Assert.Equal(LatencyHistogram.Bucket(measured), LatencyHistogram.Bucket(value.Value));
            }
        Assert.True(
            point.DurationMs.P50 >= 20 / 1.34,
            "a 20 ms nap is at least the bucket below 20 ms");
    }

    [Fact]
    public async Task Hourly_points_roll_up_the_minutes()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("hour");
        await cluster.DeployAsync(canvas, "h", "return null;", token: token);
        await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 5).Select(i => ("h", i.ToString())), token);
        await SettledAsync($"/v1/canvases/{canvas}/workers/h/metrics?{RecentRange()}", p => p.Processed, 5, "5 runs");

        var weekAgo = Uri.EscapeDataString(DateTime.UtcNow.AddDays(-7).ToString("O"));
        var week = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/h/metrics?step=3600&from={weekAgo}"),
            token)).As<MetricsAnswer>();
        Assert.Equal(3600, week.Step);
        var points = week.Points;
        Assert.InRange(points.Count, 168, 169);
        Assert.Equal(5, Sum(points, p => p.Processed));
        Assert.All(points, p => Assert.Equal(0, p.At.Minute));
    }

    [Theory]
    [InlineData("step=30", "step")]
    [InlineData("step=abc", "step")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45T99:00:00Z", "to")]
    [InlineData("from=2026-11-23T12:00:00Z&to=2026-11-23T11:00:00Z", "after")]
    [InlineData("from=2026-11-20T12:00:00Z&to=2026-11-23T12:00:00Z", "longer")]
    [InlineData("step=3600&from=2026-01-01T00:00:00Z&to=2026-11-23T12:00:00Z", "longer")]
    public async Task Bad_parameters_are_400_problems(string query, string detail)
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("mbad");
        await cluster.DeployAsync(canvas, "w", "return null;", token: token);
        foreach (var path in new[] {
            $"/v1/canvases/{canvas}/workers/w/metrics?{query}",
            $"/v1/canvases/{canvas}/metrics?{query}" })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, cluster.ControlUrl(path), token);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(detail, (await response.Content.ReadAsStringAsync()).As<Problem>().Detail);
        }
    }

    [Fact]
    public async Task A_canvas_token_reads_its_own_canvas_only()
    {
        var (mine, token) = await cluster.CreateCanvasAsync("mine");
        var (other, otherToken) = await cluster.CreateCanvasAsync("other");
        await cluster.DeployAsync(mine, "w", "return null;", token: token);
        await cluster.DeployAsync(other, "w", "return null;", token: otherToken);

        foreach (var (path, status) in new[]
        {
            ($"/v1/canvases/{mine}/workers/w/metrics", HttpStatusCode.OK),
            ($"/v1/canvases/{mine}/metrics", HttpStatusCode.OK),
            ($"/v1/canvases/{other}/workers/w/metrics", HttpStatusCode.Forbidden),
            ($"/v1/canvases/{other}/metrics", HttpStatusCode.Forbidden),
            ($"/v1/canvases/{mine}/workers/none/metrics", HttpStatusCode.NotFound),
        })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, cluster.ControlUrl(path), token);
            Assert.Equal(status, response.StatusCode);
        }
        using var anonymous = await cluster.SendAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{mine}/metrics"),
            null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        // The default range: the last hour at one minute, so 60 or 61 points.
        Assert.InRange((await PointsAsync($"/v1/canvases/{mine}/metrics", token)).Count, 60, 61);
    }
}
