using Workq.Client;

namespace Workq.Tests.Client;

/// <summary>WorkqControlClient against the routes the control service has today.</summary>
[Collection(ClientsCollection.Name)]
public sealed class WorkqControlClientTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Canvases_are_created_listed_and_deleted()
    {
        using var admin = FastClients.Control(cluster);
        var name = $"cc-{Guid.NewGuid():N}"[..20];

        var created = await admin.CreateCanvasAsync(name);
        Assert.Equal(name, created.Name);
        Assert.StartsWith("wq_", created.Token);
        var conflict = await Assert.ThrowsAsync<WorkqException>(() => admin.CreateCanvasAsync(name));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);

        using var owner = FastClients.Control(cluster, created.Token);
        await owner.DeployWorkerAsync(name, "w", "return 1;");
        Assert.Equal(1, (await admin.ListCanvasesAsync()).Single(c => c.Name == name).Workers);
        var forbidden = await Assert.ThrowsAsync<WorkqException>(() => owner.ListCanvasesAsync());
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        await admin.DeleteCanvasAsync(name);
        Assert.DoesNotContain(await admin.ListCanvasesAsync(), c => c.Name == name);
        Assert.Equal(
            HttpStatusCode.NotFound,
            (await Assert.ThrowsAsync<WorkqException>(() => admin.DeleteCanvasAsync(name))).StatusCode);
    }

    [Fact]
    public async Task Workers_are_deployed_read_listed_patched_and_deleted()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cw");
        using var control = FastClients.Control(cluster, token);

        var deployed = await control.DeployWorkerAsync(canvas, "w", "return 1;", concurrency: 3);
        Assert.Equal(
            (canvas, "w", 1, "running", 3),
            (deployed.Canvas, deployed.Name, deployed.Version, deployed.State, deployed.Concurrency));
        Assert.Equal(2, (await control.DeployWorkerAsync(canvas, "w", "return 2;")).Version);

        var read = await control.GetWorkerAsync(canvas, "w");
        Assert.Equal("return 2;", read.Code);
        Assert.Null(read.Retry);
        Assert.NotNull(read.Stats);
        var listed = Assert.Single(await control.ListWorkersAsync(canvas));
        Assert.Null(listed.Code);

        var patched = await control.PatchWorkerAsync(
            canvas,
            "w",
            new WorkerSettings(Concurrency: 5, Retry: new RetryPolicy(3, [1, 2])));
        Assert.Equal(5, patched.Concurrency);
        Assert.Equal(3, patched.Retry!.MaxAttempts);
        Assert.Equal([1, 2], patched.Retry.BackoffSeconds!);
        var cleared = await control.PatchWorkerAsync(canvas, "w", new WorkerSettings(ClearRetry: true));
        Assert.Null(cleared.Retry);
        Assert.Equal(5, cleared.Concurrency);

        await control.DeleteWorkerAsync(canvas, "w");
        var gone = await Assert.ThrowsAsync<WorkqException>(() => control.GetWorkerAsync(canvas, "w"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains("no worker", gone.Detail);
    }

    [Fact]
    public async Task Pause_resume_block_and_unblock_move_the_state()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cs");
        using var owner = FastClients.Control(cluster, token);
        using var admin = FastClients.Control(cluster);
        await owner.DeployWorkerAsync(canvas, "w", "return 1;");

        Assert.Equal("paused", (await owner.PauseAsync(canvas, "w")).State);
        Assert.Equal("running", (await owner.ResumeAsync(canvas, "w")).State);
        Assert.Equal(
            HttpStatusCode.Forbidden,
            (await Assert.ThrowsAsync<WorkqException>(() => owner.BlockAsync(canvas, "w", "mine"))).StatusCode);

        var blocked = await admin.BlockAsync(canvas, "w", "runaway");
        Assert.Equal(("blocked", "runaway"), (blocked.State, blocked.BlockedReason));
        var conflict = await Assert.ThrowsAsync<WorkqException>(() => owner.ResumeAsync(canvas, "w"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("runaway", conflict.Detail);

        var unblocked = await admin.UnblockAsync(canvas, "w");
        Assert.Equal("running", unblocked.State);
        Assert.Null(unblocked.BlockedReason);
        Assert.Equal("blocked", (await admin.BlockAsync(canvas, "w")).State);
    }

    [Fact]
    public async Task Traces_and_unhandled_events_read_into_records()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("ct");
        using var control = FastClients.Control(cluster, token);
        using var emitter = FastClients.Emitter(cluster, token);
        await control.DeployWorkerAsync(canvas, "w", """
            var n = Event!["n"]!.GetValue<int>();
            Log($"n is {n}");
            if (n == 1) await Emit("w", new { n = 2 });
            if (n == 2) throw new InvalidOperationException("two");
            return n;
            """);

        var id = await emitter.EmitAsync(canvas, "w", new { n = 1 });
        var traces = await cluster.EventuallyAsync(
            () => control.GetTracesAsync(canvas, "w"),
            t => t.Count == 2,
            Patience,
            "two traces");
        var first = traces.Single(t => t.EventId == id);
        Assert.Equal(("completed", 1, 1), (first.Status, first.Result!.GetValue<int>(), first.Attempt));
        Assert.Equal(["n is 1"], first.Logs);
        var child = Assert.Single(first.Emitted);
        var second = traces.Single(t => t.EventId == child.Id);
        Assert.Equal(
            ("failed", "InvalidOperationException", "two"),
            (second.Status, second.Error!.Type, second.Error.Message));
        Assert.Equal(first.TraceId, second.TraceId);
        Assert.True(first.FinishedAt >= first.StartedAt && first.DurationMs >= 0);

        await emitter.EmitAsync(canvas, "ghost", new { x = 1 });
        var unhandled = await cluster.EventuallyAsync(
            () => control.ListUnhandledAsync(canvas),
            u => u.Count == 1,
            Patience,
            "ghost parked");
        Assert.Equal(("ghost", 1L), (unhandled[0].Worker, unhandled[0].Count));
        Assert.Contains("\"x\":1", unhandled[0].Sample!.ToJsonString().Replace("\\u0022", "\"").Replace("\\\"", "\""));
        await control.DeleteUnhandledAsync(canvas, "ghost");
        Assert.Empty(await control.ListUnhandledAsync(canvas));
    }

    [Fact]
    public async Task GetEventAsync_reads_a_status_and_WaitForEventAsync_returns_it_finished_or_when_the_timeout_ends()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("ce");
        using var control = FastClients.Control(cluster, token);
        using var emitter = FastClients.Emitter(cluster, token);
        await control.DeployWorkerAsync(
            canvas,
            "done",
            "await Task.Delay(500, CancellationToken); return new { ok = true };");
        await control.DeployWorkerAsync(canvas, "held", "return 1;");
        await control.PauseAsync(canvas, "held");

        var id = await emitter.EmitAsync(canvas, "done", new { n = 1 });
        var finished = await control.WaitForEventAsync(canvas, id, TimeSpan.FromSeconds(30));
        Assert.Equal(
            ("completed", "done", 1, true),
            (finished.Status, finished.Worker, finished.Attempts, finished.IsFinished));
        Assert.True(finished.Result!["ok"]!.GetValue<bool>());
        Assert.Equal("completed", (await control.GetEventAsync(canvas, id)).Status);

        var held = await emitter.EmitAsync(canvas, "held", 1);
        var current = await control.WaitForEventAsync(canvas, held, TimeSpan.FromSeconds(2));
        Assert.Equal("queued", current.Status);
        Assert.False(current.IsFinished);

        var missing = await Assert.ThrowsAsync<WorkqException>(() => control.GetEventAsync(canvas, Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
