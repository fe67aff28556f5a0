using Npgsql;
using Workq.Client;

namespace Workq.Tests.Quotas;

/// <summary>
/// A filtered redrive into a full queue keeps redrive's guarantees: oldest first, stop at the refusal, the rest stay
/// dead letters.
/// </summary>
public sealed class DeadLetterRedriveQuotaTests(QuotaCluster fixture) : IClassFixture<QuotaCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly WorkqCluster cluster = fixture.Cluster;

    [Fact]
    public async Task A_filtered_redrive_into_a_full_queue_answers_429_and_keeps_the_newer_selected_and_the_unselected()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dlq");
        await cluster.DeployAsync(canvas, "w", "return null;", token: token);
        await cluster.JsonAsync(HttpMethod.Post, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/pause"), token);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.Consumers == 0,
            Patience,
            "no consumers while paused");
        // 40 dead letters, oldest first: odd orders are "pick" (20 + 10 more than the queue holds once the evens are
        // left out), evens "keep".
        const int selected = QuotaCluster.MaxQueued + 10;
        await using (var db = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin)
        {
            Database = cluster.Database
        }.ConnectionString))
        {
            await db.OpenAsync();
            await using var insert = new NpgsqlCommand("""
                insert into dead_letters (canvas, worker, event_id, enqueued_at, depth, body, body_text, reason,
                     attempts, dead_lettered_at)
                select @canvas, 'w', gen_random_uuid(), now(), 0, convert_to(b, 'UTF8'), b,
                     'delivery limit: delivered 5 times', 5, now() - make_interval(secs => 100 - i)
                  from generate_series(1, @total) i,
                       lateral (select format('{"order":%s,"tag":"%s"}', i,
                                              case when i % 2 = 1 then 'pick' else 'keep' end) b) s
                 order by i
                """, db);
            insert.Parameters.AddWithValue("canvas", canvas);
            insert.Parameters.AddWithValue("total", selected * 2);
            Assert.Equal(selected * 2, await insert.ExecuteNonQueryAsync());
        }

        using (var full = await cluster.SendAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters/redrive?q=%22pick%22"),
            token))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
            Assert.Equal("Queue full", (await full.Content.ReadAsStringAsync()).As<Problem>().Title);
        }
        var left = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters?limit=1000"),
            token)).As<List<DeadLetter>>()
            .Select(d => (Order: d.Event!["order"]!.GetValue<int>(), Tag: d.Event["tag"]!.GetValue<string>()))
            .ToList();
        Assert.Equal(selected, left.Count(l => l.Tag == "keep"));
        var picked = left.Where(l => l.Tag == "pick").Select(l => l.Order).Order().ToList();
        // A quorum queue takes the one that reaches past its limit, then refuses.
        var redriven = selected - picked.Count;
        Assert.InRange(redriven, QuotaCluster.MaxQueued, QuotaCluster.MaxQueued + 1);
        Assert.Equal(Enumerable.Range(0, selected).Select(n => 2 * n + 1).Skip(redriven), picked);
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.Queued == redriven,
            Patience,
            "the redriven events queued");
    }
}
