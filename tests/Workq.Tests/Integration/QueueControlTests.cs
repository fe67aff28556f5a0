using System.Text.Json.Nodes;
using Workq.Tests.Infrastructure;

namespace Workq.Tests.Integration;

/// <summary>Pause, resume, block, unblock, and the unhandled ("404") list, on the real broker.</summary>
[Collection(ClusterCollection.Name)]
public sealed class QueueControlTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private Task<JsonNode?> PostAsync(string canvas, string path, string token, string? body = null, int expect = 200) =>
        cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{path}"), token, body, expect);

    [Fact]
    public async Task A_paused_worker_keeps_its_events_queued_and_resume_drains_them()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "p", "return 1;", token: token);
        var paused = await PostAsync(canvas, "p/pause", token);
        Assert.Equal("paused", paused!["state"]!.GetValue<string>());
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "p"), w => w["stats"]!["consumers"]!.GetValue<long>() == 0, Patience, "no consumers while paused");

        await cluster.EmitBatchAsync(canvas, Enumerable.Range(0, 20).Select(i => ("p", i.ToString())), token);
        var queued = await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "p"), w => w["stats"]!["queued"]!.GetValue<long>() == 20, Patience, "20 queued while paused");
        Assert.Equal(0, queued["stats"]!["processed"]!.GetValue<long>());
        Assert.Empty(await cluster.TracesAsync(canvas, "p"));

        Assert.Equal("running", (await PostAsync(canvas, "p/resume", token))!["state"]!.GetValue<string>());
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "p"),
            w => w["stats"]!["processed"]!.GetValue<long>() == 20 && w["stats"]!["queued"]!.GetValue<long>() == 0, Patience, "drained after resume");
    }

    [Fact]
    public async Task Block_is_the_admins_and_unblock_returns_the_worker_to_the_state_under_the_block()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "b", "return 1;", token: token);
        await PostAsync(canvas, "b/pause", token);

        var blocked = await PostAsync(canvas, "b/block", cluster.AdminToken, """{"reason":"runaway loop"}""");
        Assert.Equal("blocked", blocked!["state"]!.GetValue<string>());
        Assert.Equal("runaway loop", blocked["blockedReason"]!.GetValue<string>());

        // The owner cannot resume a blocked worker; emits are still accepted and kept.
        using (var resume = await cluster.SendAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/b/resume"), token))
        {
            Assert.Equal(409, (int)resume.StatusCode);
            Assert.Contains("runaway loop", await resume.Content.ReadAsStringAsync());
        }
        Assert.Equal("blocked", (await cluster.WorkerAsync(canvas, "b"))["state"]!.GetValue<string>());
        await cluster.EmitAsync(canvas, "b", "1", token);

        var unblocked = await PostAsync(canvas, "b/unblock", cluster.AdminToken);
        Assert.Equal("paused", unblocked!["state"]!.GetValue<string>());
        Assert.Null(unblocked["blockedReason"]);
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "b"), w => w["stats"]!["queued"]!.GetValue<long>() == 1, Patience, "the event kept");

        await PostAsync(canvas, "b/resume", token);
        await cluster.EventuallyAsync(() => cluster.WorkerAsync(canvas, "b"), w => w["stats"]!["processed"]!.GetValue<long>() == 1, Patience, "processed after resume");
    }

    [Fact]
    public async Task Events_for_a_worker_that_does_not_exist_are_parked_and_run_in_order_once_it_is_created()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        for (var i = 1; i <= 5; i++) await cluster.EmitAsync(canvas, "later", $$"""{"i":{{i}}}""", token);

        var unhandledUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled");
        var list = await cluster.EventuallyAsync(async () => (await cluster.JsonAsync(HttpMethod.Get, unhandledUrl, token))!.AsArray(),
            l => l.Count == 1 && l[0]!["count"]!.GetValue<long>() == 5, Patience, "five parked events for 'later'");
        var entry = list[0]!;
        Assert.Equal("later", entry["worker"]!.GetValue<string>());
        Assert.True(entry["firstSeen"]!.GetValue<DateTimeOffset>() <= entry["lastSeen"]!.GetValue<DateTimeOffset>());
        Assert.Equal(5, JsonNode.Parse(entry["sample"]!.GetValue<string>())!["i"]!.GetValue<int>());

        // Concurrency 1 so the run order shows the queue order.
        await cluster.DeployAsync(canvas, "later", "return Event![\"i\"]!.GetValue<int>();", concurrency: 1, token: token);
        var traces = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "later"), t => t.Count == 5, Patience, "the parked events run");
        var order = traces.OrderBy(t => t!["startedAt"]!.GetValue<DateTimeOffset>()).Select(t => t!["result"]!.GetValue<int>()).ToList();
        Assert.Equal([1, 2, 3, 4, 5], order);
        Assert.Empty((await cluster.JsonAsync(HttpMethod.Get, unhandledUrl, token))!.AsArray());
    }

    [Fact]
    public async Task Deleting_an_unhandled_entry_drops_its_parked_events()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.EmitAsync(canvas, "ghost", "1", token);
        var unhandledUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled");
        await cluster.EventuallyAsync(async () => (await cluster.JsonAsync(HttpMethod.Get, unhandledUrl, token))!.AsArray(), l => l.Count == 1, Patience, "ghost parked");

        await cluster.JsonAsync(HttpMethod.Delete, cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled/ghost"), token, expect: 204);
        Assert.Empty((await cluster.JsonAsync(HttpMethod.Get, unhandledUrl, token))!.AsArray());

        // Creating the worker now finds nothing to replay.
        await cluster.DeployAsync(canvas, "ghost", "return 1;", token: token);
        await cluster.EmitAsync(canvas, "ghost", "2", token);
        var traces = await cluster.EventuallyAsync(() => cluster.TracesAsync(canvas, "ghost"), t => t.Count >= 1, Patience, "the new event ran");
        Assert.Equal(2, Assert.Single(traces)!["event"]!.GetValue<int>());
    }
}
