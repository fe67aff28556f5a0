using System.Text.Json.Nodes;
using Workq.Client;
using Workq.Shared.Messaging;

namespace Workq.Tests.Integration;

/// <summary>
/// Retry policy, dead letters and redrive, loop protection: failure handling that leaves nothing lost.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FailureTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    private async Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(Uri url, string token) =>
        (await cluster.JsonAsync(HttpMethod.Get, url, token)).As<List<DeadLetter>>();

    [Fact]
    public async Task A_retry_policy_reruns_with_backoff_then_dead_letters_and_a_redrive_after_the_fix_completes()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "flaky", """
            Log($"attempt {Meta.Attempt}");
            throw new InvalidOperationException("downstream is down");
            """, token: token);
        var url = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/flaky");
        var patched = await cluster.JsonAsync(
            HttpMethod.Patch,
            url,
            token,
            """{"retry":{"maxAttempts":3,"backoffSeconds":[1,2]}}""");
        Assert.Equal(3, patched.As<Worker>().Retry!.MaxAttempts);
        // The policy reaches the instances through the control plane within moments; an event that ran before
        // that was simply complete. Emit until one is dead-lettered.
        var deadLettersUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/flaky/dead-letters");
        IReadOnlyList<DeadLetter> deadLetters = [];
        var deadline = DateTime.UtcNow + Patience;
        while (deadLetters.Count == 0 && DateTime.UtcNow < deadline)
        {
            await cluster.EmitAsync(canvas, "flaky", """{"order":1}""", token);
            // Three attempts, 1 s and 2 s apart, are over within a few seconds.
            for (
                var probe = DateTime.UtcNow + TimeSpan.FromSeconds(8);
                deadLetters.Count == 0 && DateTime.UtcNow < probe;
                await Task.Delay(200))
                deadLetters = await DeadLettersAsync(deadLettersUrl, token);
        }
        Assert.True(deadLetters.Count > 0, $"no dead letter within {Patience}\n{cluster.Logs()}");
        var deadLetter = deadLetters[0];
        var id = deadLetter.Id;
        Assert.Equal(3, deadLetter.Attempts);
        Assert.Contains("downstream is down", deadLetter.Reason);
        Assert.Equal(1, deadLetter.Event!["order"]!.GetValue<int>());

        // Traces are written in batches, a moment after the dead letter may be stored.
        var traces = await cluster.EventuallyAsync(
            async () => (await cluster.GetTracesAsync(canvas, "flaky")).Where(t => t.EventId == id).ToList(),
            t => t.Count == 3,
            Patience,
            "three attempts traced");
        Assert.Equal([1, 2, 3], traces.Select(t => t.Attempt).Order());
        Assert.All(traces, t => Assert.Equal("failed", t.Status));
        // The backoff was waited out: attempt 2 started at least 1 s after attempt 1 finished.
        var first = traces.Single(t => t.Attempt == 1);
        var second = traces.Single(t => t.Attempt == 2);
        Assert.True(second.StartedAt - first.FinishedAt >= TimeSpan.FromMilliseconds(900));
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "flaky"),
            w => w.Stats.DeadLettered == 1,
            Patience,
            "deadLettered counted");

        await cluster.DeployAsync(
            canvas,
            "flaky",
            "return $\"fixed on attempt {Meta.Attempt}\";",
            token: token,
            expect: 200);
        // Wait until the fix is live before redriving (instances converge through the control plane).
        await cluster.EmitAsync(canvas, "flaky", """{"probe":true}""", token);
        await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "flaky"),
            t => t.Any(x => x.Status == "completed"),
            Patience,
            "the fix is live");

        var redriven = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/flaky/dead-letters/redrive"),
            token);
        Assert.Equal(1, redriven.As<RedriveAnswer>().Redriven);
        var done = await cluster.EventuallyAsync(() => cluster.GetTracesAsync(canvas, "flaky"),
            t => t.Any(x => x.EventId == id && x.Status == "completed"), Patience, "the redriven event completed");
        var completed = done.First(x => x.EventId == id && x.Status == "completed");
        Assert.Equal(1, completed.Attempt);
        Assert.Equal("fixed on attempt 1", completed.Result!.GetValue<string>());
        Assert.Empty((await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/flaky/dead-letters"),
            token))!.AsArray());
    }

    [Fact]
    public async Task Discarding_dead_letters_empties_the_list()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "bad", "throw new Exception(\"no\");", token: token);
        await cluster.JsonAsync(
            HttpMethod.Patch,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bad"),
            token,
            """{"retry":{"maxAttempts":1,"backoffSeconds":[]}}""");
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "bad"),
            w => w.Retry is not null,
            Patience,
            "policy stored");
        // Until the instances have the policy, a failure is simply complete; emit until dead letters appear.
        var listUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bad/dead-letters");
        var emitted = new List<Guid>();
        await cluster.EventuallyAsync(async () =>
        {
            emitted.Add(await cluster.EmitAsync(canvas, "bad", "1", token));
            await Task.Delay(200);   // one emit per look, so the loop does not flood the queue
            return (await cluster.JsonAsync(HttpMethod.Get, listUrl, token))!.AsArray().Count;
        }, n => n >= 1, Patience, "a dead letter");
        // Every event emitted above has ended (a dead letter stored after the discard would be listed again).
        foreach (var id in emitted)
            await cluster.EventuallyAsync(async () =>
            {
                using var response = await cluster.SendAsync(
                    HttpMethod.Get,
                    cluster.ControlUrl($"/v1/canvases/{canvas}/events/{id}"),
                    token);
                return response.IsSuccessStatusCode
                    ? (await response.Content.ReadAsStringAsync()).As<EventStatus>().Status
                    : null;
            }, s => s is "completed" or "deadLettered", Patience, $"event {id} ended");
        var discarded = await cluster.JsonAsync(HttpMethod.Delete, listUrl, token);
        Assert.True(discarded.As<DiscardAnswer>().Discarded >= 1);
        Assert.Empty((await cluster.JsonAsync(HttpMethod.Get, listUrl, token))!.AsArray());
    }

    [Fact]
    public async Task A_dead_letter_delivered_twice_is_listed_and_counted_once()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "w", "return null;", token: token);
        // What a dispatcher that crashed between storing a dead letter and acking it sees: the same message again.
        // A second event goes last: the dispatcher takes dead letters in order, so once it is listed both copies were
        // handled.
        var twice = new EventEnvelope(Guid.CreateVersion7(), canvas, "w", DateTimeOffset.UtcNow, 0, null);
        var last = twice with { Id = Guid.CreateVersion7() };
        var factory = new RabbitMQ.Client.ConnectionFactory
        {
            Uri = new Uri(cluster.ServiceEnvironment["WORKQ_RABBITMQ_URL"])
        };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync(
            new RabbitMQ.Client.CreateChannelOptions(true, true)))
        {
            foreach (var envelope in new[] { twice, twice, last })
            {
                var properties = EventHeaders.Create(envelope, attempt: 3);
                properties.Headers![EventHeaders.DeadLetterReason] = "gave up";
                properties.Headers[EventHeaders.Attempts] = 3;
                await channel.BasicPublishAsync(
                    Topology.DeadLetterExchange,
                    "w",
                    mandatory: false,
                    properties,
                    """{"n":1}"""u8.ToArray());
            }
        }

        var listUrl = cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters");
        var list = await cluster.EventuallyAsync(
            () => DeadLettersAsync(listUrl, token),
            l => l.Any(d => d.Id == last.Id),
            Patience,
            "the last dead letter listed");
        Assert.Equal(new[] { twice.Id, last.Id }.Order(), list.Select(d => d.Id).Order());
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.DeadLettered == 2,
            Patience,
            "each event counted once");
    }

    [Fact]
    public async Task A_runaway_self_emit_loop_is_blocked_automatically_within_ten_seconds()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        await cluster.DeployAsync(canvas, "bomb", """
            await Emit("bomb", 1);
            await Emit("bomb", 2);
            return null;
            """, concurrency: 50, token: token);
        var started = DateTimeOffset.UtcNow;
        await cluster.EmitAsync(canvas, "bomb", "0", token);

        var blocked = await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "bomb"),
            w => w.State == "blocked",
            TimeSpan.FromSeconds(10),
            "the loop blocked");
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.Contains("self-emit loop", blocked.BlockedReason);
        // Stopped with its backlog kept, and far from flooding the broker.
        var queued = await cluster.EventuallyAsync(() => cluster.GetWorkerAsync(canvas, "bomb"),
            w => w.Stats.InFlight == 0 && w.Stats.Queued > 0 && w.Stats.Consumers == 0,
            Patience, "consumers stopped with the backlog kept");
        Assert.InRange(queued.Stats.Queued, 1, 99_999);

        // The owner cannot resume it; the admin can purge and unblock.
        using (var resume = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bomb/resume"),
            token))
            Assert.Equal(409, (int)resume.StatusCode);
        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bomb/events"),
            token);
        await cluster.DeployAsync(canvas, "bomb", "return null;", token: token, expect: 200);
        var unblocked = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bomb/unblock"),
            cluster.AdminToken);
        Assert.Equal("running", unblocked.As<Worker>().State);
    }

    [Fact]
    public async Task Emits_past_the_depth_limit_are_refused_inside_the_handler()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync();
        // A linear chain: each run emits once, so the loop guard stays quiet and the depth limit ends it.
        await cluster.DeployAsync(canvas, "chain", """
            await Emit("chain", Meta.Depth + 1);
            return Meta.Depth;
            """, concurrency: 1, token: token);
        await cluster.EmitAsync(canvas, "chain", "0", token);
        var failedRun = await cluster.EventuallyAsync(() => cluster.GetTracesAsync(canvas, "chain"),
            t => t.Any(x => x.Status == "failed"), TimeSpan.FromSeconds(90), "the chain to hit the depth limit");
        var failed = failedRun.First(x => x.Status == "failed");
        Assert.Equal(1000, failed.Depth);
        Assert.Contains("WORKQ_MAX_EMIT_DEPTH", failed.Error!.Message);
        await cluster.EventuallyAsync(() => cluster.GetWorkerAsync(canvas, "chain"),
            w => w.Stats.Queued == 0 && w.Stats.InFlight == 0, Patience, "the chain ended");
    }
}
