using Microsoft.Extensions.DependencyInjection;
using Workq.Client;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Client;

/// <summary>
/// WorkqClient against the real services: emits, batches, retries that never enqueue twice, and error mapping.
/// </summary>
[Collection(ClientsCollection.Name)]
public sealed class WorkqClientTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<(string Canvas, string Token)> CanvasWithWorkerAsync(
        string worker,
        string code = "return Event;")
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cl");
        await cluster.DeployAsync(canvas, worker, code, token: token);
        return (canvas, token);
    }

    /// <summary>
    /// Waits until the worker has processed <paramref name="count"/> events, then a stats flush longer, so a duplicate
    /// would show.
    /// </summary>
    private async Task<IReadOnlyList<Trace>> ProcessedExactlyAsync(string canvas, string worker, int count)
    {
        using var control = FastClients.Control(cluster);
        await cluster.EventuallyAsync(
            () => control.GetWorkerAsync(canvas, worker),
            w => w.Stats.Processed >= count,
            Patience,
            $"{count} processed");
        // Nothing to poll for: a duplicate would be counted within a stats flush (1 s), or never.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var settled = await control.GetWorkerAsync(canvas, worker);
        Assert.Equal(count, settled.Stats.Processed);
        Assert.Equal(0, settled.Stats.Queued);
        return await control.GetTracesAsync(canvas, worker);
    }

    [Fact]
    public async Task Emit_returns_the_id_the_worker_runs_it_under()
    {
        var (canvas, token) = await CanvasWithWorkerAsync("echo");
        using var client = new WorkqClient(cluster.Emitter.Url, token);

        var id = await client.EmitAsync(canvas, "echo", new { n = 7, who = "ada" });

        var trace = Assert.Single(await ProcessedExactlyAsync(canvas, "echo", 1));
        Assert.Equal(id, trace.EventId);
        Assert.Equal("completed", trace.Status);
        Assert.Equal(7, trace.Event!["n"]!.GetValue<int>());
        Assert.Equal("ada", trace.Result!["who"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ordering_keys_go_with_single_and_batch_emits_and_show_in_the_trace()
    {
        var (canvas, token) = await CanvasWithWorkerAsync("echo");
        using var client = new WorkqClient(cluster.Emitter.Url, token);

        var single = await client.EmitAsync(canvas, "echo", 1, new EmitTiming(OrderingKey: "order/42"));
        var batch = await client.EmitBatchAsync(
            canvas,
            [new EmitItem("echo", 2, OrderingKey: "order/42"), new EmitItem("echo", 3)]);

        var traces = await ProcessedExactlyAsync(canvas, "echo", 3);
        Assert.Equal("order/42", traces.Single(t => t.EventId == single).OrderingKey);
        Assert.Equal("order/42", traces.Single(t => t.EventId == batch[0]).OrderingKey);
        Assert.Null(traces.Single(t => t.EventId == batch[1]).OrderingKey);
        var refused = await Assert.ThrowsAsync<WorkqException>(
            () => client.EmitAsync(canvas, "echo", 4, new EmitTiming(OrderingKey: new string('k', 129))));
        Assert.Equal(400, (int)refused.StatusCode);
    }

    [Fact]
    public async Task A_batch_returns_ids_in_order_and_a_callers_key_is_honoured()
    {
        var (canvas, token) = await CanvasWithWorkerAsync("echo");
        using var client = new WorkqClient(cluster.Emitter.Url, token);
        var first = await client.EmitAsync(canvas, "echo", 0, idempotencyKey: "order-1");

        var ids = await client.EmitBatchAsync(
            canvas,
            [new EmitItem("echo", 1), new EmitItem("echo", 2, "order-1"), new EmitItem("echo", null)]);

        Assert.Equal(3, ids.Count);
        Assert.Equal(first, ids[1]);
        var traces = await ProcessedExactlyAsync(canvas, "echo", 3);
        Assert.Equal(traces.Select(t => t.EventId).Order(), new[] { first, ids[0], ids[2] }.Order());
        Assert.Null(traces.Single(t => t.EventId == ids[2]).Event);
    }

    [Fact]
    public async Task Delay_and_run_at_schedule_single_and_batch_emits_and_they_run_no_earlier()
    {
        var (canvas, token) = await CanvasWithWorkerAsync("later");
        using var client = new WorkqClient(cluster.Emitter.Url, token);
        using var control = FastClients.Control(cluster);
        var before = DateTimeOffset.UtcNow;

        var delayed = await client.EmitAsync(canvas, "later", 1, new EmitTiming(Delay: TimeSpan.FromSeconds(2)));
        var ids = await client.EmitBatchAsync(canvas, [new EmitItem(
            "later",
            2,
            Delay: TimeSpan.FromSeconds(2)), new EmitItem("later", 3, RunAt: before.AddSeconds(3))]);

        var expected = new[] {
            (delayed, before.AddSeconds(2)),
            (ids[0], before.AddSeconds(2)),
            (ids[1], before.AddSeconds(3)) };
        foreach (var (id, earliest) in expected)
        {
            // The 202 comes before the status is readable (API.md: statuses lag by a fraction of a second): a 404 is
            // "not yet".
            var scheduled = await cluster.EventuallyAsync(async () =>
            {
                try
                {
                    return await control.GetEventAsync(canvas, id);
                }
                catch (WorkqException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    return null;
                }
            }, e => e?.Status is "scheduled" or "completed", Patience, $"{id}'s status");
            // Scheduled for its time (the batch's runAt exactly, the delays from when the emitter took them).
            Assert.InRange(scheduled!.RunAt!.Value, earliest.AddMilliseconds(-1), DateTimeOffset.UtcNow.AddSeconds(3));
            var done = await control.WaitForEventAsync(canvas, id, Patience);
            Assert.Equal("completed", done.Status);
            Assert.True(
                done.StartedAt >= scheduled.RunAt,
                $"{id} started at {done.StartedAt:O}, before its time {scheduled.RunAt:O}");
        }
    }

    [Theory]
    [InlineData(FailurePoint.BeforeForwarding)]
    [InlineData(FailurePoint.AfterForwarding)]
    public async Task A_503_is_retried_with_the_same_key_and_the_event_runs_exactly_once(FailurePoint point)
    {
        var (canvas, token) = await CanvasWithWorkerAsync("once");
        var flaky = new FirstAttemptFails(point);
        using var client = FastClients.Emitter(cluster, token, flaky);

        var id = await client.EmitAsync(canvas, "once", new { n = 1 });

        Assert.Equal(2, flaky.Attempts);
        var keys = flaky.IdempotencyKeys.ToList();
        Assert.NotNull(keys[0]);
        Assert.Equal(keys[0], keys[1]);
        if (point == FailurePoint.AfterForwarding)
            Assert.Equal(id, flaky.LostAnswer!.As<EmitAccepted>().Id);
        var trace = Assert.Single(await ProcessedExactlyAsync(canvas, "once", 1));
        Assert.Equal(id, trace.EventId);
    }

    [Fact]
    public async Task A_batch_whose_answer_was_lost_is_retried_with_a_key_per_item_and_enqueued_once()
    {
        var (canvas, token) = await CanvasWithWorkerAsync("once");
        var flaky = new FirstAttemptFails(FailurePoint.AfterForwarding);
        using var client = FastClients.Emitter(cluster, token, flaky);

        var ids = await client.EmitBatchAsync(
            canvas,
            Enumerable.Range(0, 5).Select(i => new EmitItem("once", i)).Append(new EmitItem("once", 5, "mine")));

        var bodies = flaky.RequestBodies.ToList();
        Assert.Equal(2, bodies.Count);
        Assert.Equal(bodies[0], bodies[1]);
        var sentKeys = JsonNode.Parse(bodies[0])!.AsArray().Select(i => i!["idempotencyKey"]!.GetValue<string>())
            .ToList();
        Assert.Equal(6, sentKeys.Distinct().Count());
        Assert.Equal("mine", sentKeys[5]);
        var lost = flaky.LostAnswer!.As<EmitBatchAnswer>().Ids;
        Assert.Equal(lost, ids);
        var traces = await ProcessedExactlyAsync(canvas, "once", 6);
        Assert.Equal(ids.Order(), traces.Select(t => t.EventId).Order());
    }

    [Fact]
    public async Task Error_answers_become_WorkqException_with_status_title_detail_and_compile_errors()
    {
        var (canvas, token) = await CanvasWithWorkerAsync("w");
        using var client = FastClients.Emitter(cluster, token);

        using var admin = FastClients.Emitter(cluster, cluster.AdminToken);
        var unknownCanvas = await Assert.ThrowsAsync<WorkqException>(() => admin.EmitAsync("no-such-canvas", "w", 1));
        Assert.Equal(HttpStatusCode.NotFound, unknownCanvas.StatusCode);
        Assert.Equal("Not found", unknownCanvas.Title);

        var badName = await Assert.ThrowsAsync<WorkqException>(() => client.EmitAsync(canvas, "bad name", 1));
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("Invalid worker name", badName.Detail);
        Assert.Empty(badName.Errors);

        using var stranger = FastClients.Emitter(cluster, "wq_not-a-real-token");
        var unauthorized = await Assert.ThrowsAsync<WorkqException>(
            () => stranger.EmitBatchAsync(canvas, [new EmitItem("w", 1)]));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.StartsWith("401 Unauthorized", unauthorized.Message);

        using var control = FastClients.Control(cluster, token);
        var refused = await Assert.ThrowsAsync<WorkqException>(
            () => control.DeployWorkerAsync(
                canvas,
                "broken",
                "var x = 1;\nreturn x +;\nSystem.IO.File.Delete(\"/x\");"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(refused.Errors, e => e.Line == 2 && e.Column > 1 && e.Message.StartsWith("CS"));
        Assert.All(refused.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
    }

    [Fact]
    public async Task AddWorkqClient_registers_typed_clients_that_work()
    {
        var (canvas, token) = await CanvasWithWorkerAsync("echo");
        var services = new ServiceCollection();
        services.AddWorkqClient(options =>
        {
            options.EmitterUrl = cluster.Emitter.Url;
            options.ControlUrl = cluster.Control.Url;
            options.Token = token;
        });
        await using var provider = services.BuildServiceProvider();

        var id = await provider.GetRequiredService<WorkqClient>().EmitAsync(canvas, "echo", "hi");
        var workers = await provider.GetRequiredService<WorkqControlClient>().ListWorkersAsync(canvas);

        Assert.NotEqual(Guid.Empty, id);
        Assert.Equal("echo", Assert.Single(workers).Name);
    }
}
