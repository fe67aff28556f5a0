using Dapper;
using Npgsql;
using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>
/// Crons through the real services: the routes, their 400s, canvas delete, and real ticks with two dispatchers.
/// </summary>
[Collection(CronCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Background)]
public sealed class CronTests(WorkqCluster cluster)
{
    private Uri CronsUrl(string canvas, string? cron = null)
        => cluster.ControlUrl($"/v1/canvases/{canvas}/crons" + (cron is null ? "" : $"/{cron}"));

    private Task<JsonNode?> PutCronAsync(string canvas, string cron, string body, string token, int expect) =>
        cluster.JsonAsync(HttpMethod.Put, CronsUrl(canvas, cron), token, body, expect);

    private async Task<List<Cron>> ListAsync(string canvas, string token)
        => (await cluster.JsonAsync(HttpMethod.Get, CronsUrl(canvas), token)).As<List<Cron>>();

    private async Task ExpectProblemAsync(
        HttpMethod method,
        Uri url,
        string token,
        string? body,
        int status,
        string detailContains)
    {
        using var response = await cluster.SendAsync(method, url, token, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(
            (int)response.StatusCode == status,
            $"{method} {url} with {body} answered {(int)response.StatusCode}, expected {status}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = text.As<Problem>().Detail!;
        Assert.True(
            detail.Contains(detailContains, StringComparison.Ordinal),
            $"{method} {url} with {body}: '{detail}' does not say '{detailContains}'");
    }

    [Fact]
    public async Task Crons_are_created_listed_updated_and_deleted()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cron");
        var created = (await PutCronAsync(
            canvas,
            "nightly",
            """{"schedule":"0 3 * * *","worker":"report","event":{"kind":"nightly","n":[1,2]}}""",
            token,
            201)).As<Cron>();
        Assert.Equal("nightly", created.Name);
        Assert.Equal("0 3 * * *", created.Schedule);
        Assert.Equal("report", created.Worker);
        Assert.Equal("""{"kind":"nightly","n":[1,2]}""", created.Event!.ToJsonString());
        Assert.Null(created.LastRun);
        var nextRun = created.NextRun!.Value;
        Assert.Equal((3, 0, 0), (nextRun.Hour, nextRun.Minute, nextRun.Second));
        Assert.InRange(nextRun - DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromDays(1));

        // No event means a null event; the worker need not exist.
        var updated = (await PutCronAsync(
            canvas,
            "nightly",
            """{"schedule":"@hourly","worker":"nobody-yet"}""",
            token,
            200)).As<Cron>();
        Assert.Equal("@hourly", updated.Schedule);
        Assert.Null(updated.Event);
        await PutCronAsync(
            canvas,
            "a-first",
            """{"schedule":"*/5 * * * *","worker":"w","event":"text"}""",
            cluster.AdminToken,
            201);

        var listed = await cluster.JsonAsync(HttpMethod.Get, CronsUrl(canvas), token);
        var list = listed.As<List<Cron>>();
        Assert.Equal(["a-first", "nightly"], list.Select(c => c.Name));
        Assert.Equal("text", list[0].Event!.GetValue<string>());
        // The JSON itself: these fields, in this order.
        Assert.All(listed!.AsArray(), c => Assert.Equal(
            ["name", "schedule", "worker", "event", "lastRun", "nextRun"],
            c!.AsObject().Select(p => p.Key)));
        Assert.Equal(
            "nobody-yet",
            (await cluster.JsonAsync(HttpMethod.Get, CronsUrl(canvas, "nightly"), token)).As<Cron>().Worker);

        await cluster.JsonAsync(HttpMethod.Delete, CronsUrl(canvas, "nightly"), token, expect: 204);
        await ExpectProblemAsync(HttpMethod.Delete, CronsUrl(canvas, "nightly"), token, null, 404, "no cron 'nightly'");
        await ExpectProblemAsync(HttpMethod.Get, CronsUrl(canvas, "nightly"), token, null, 404, "no cron 'nightly'");
        Assert.Single(await ListAsync(canvas, token));
    }

    [Fact]
    public async Task Bad_input_gets_a_400_that_says_why()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cron");
        var url = CronsUrl(canvas, "c");
        var cases = new (string Body, string Detail)[]
        {
            ("""{"schedule":"* * * * * *","worker":"w"}""", "five fields"),
            ("""{"schedule":"0 12 * *","worker":"w"}""", "five fields"),
            ("""{"schedule":"61 * * * *","worker":"w"}""", "minute field"),
            ("""{"schedule":"0 0 * * 8","worker":"w"}""", "day-of-week field"),
            ("""{"schedule":"0 0 30 2 *","worker":"w"}""", "never fires"),
            ("""{"schedule":"0 0 L * *","worker":"w"}""", "day-of-month field"),
            ("""{"schedule":"@reboot","worker":"w"}""", "Unknown macro"),
            ("""{"schedule":"","worker":"w"}""", "empty"),
            ("""{"worker":"w"}""", "\"schedule\" is required"),
            ("""{"schedule":"* * * * *"}""", "\"worker\" is required"),
            ("""{"schedule":"* * * * *","worker":"no spaces"}""", "Invalid worker name"),
            ("""{"schedule":5,"worker":"w"}""", "not valid JSON for this route"),
            ("""{"schedule":"* * * * *",""", "not valid JSON"),
            ("", "The body is empty"),
            ("[]", "not valid JSON"),
        };
        foreach (var (body, detail) in cases) await ExpectProblemAsync(HttpMethod.Put, url, token, body, 400, detail);
        await ExpectProblemAsync(
            HttpMethod.Put,
            CronsUrl(canvas, "bad.name"),
            token,
            """{"schedule":"* * * * *","worker":"w"}""",
            400,
            "Invalid cron name");
        await ExpectProblemAsync(HttpMethod.Delete, CronsUrl(canvas, "-x"), token, null, 400, "Invalid cron name");
        Assert.Empty(await ListAsync(canvas, token));

        // The owner's routes, like the workers': another canvas's token is refused.
        var (_, otherToken) = await cluster.CreateCanvasAsync("cron");
        await ExpectProblemAsync(
            HttpMethod.Put,
            url,
            otherToken,
            """{"schedule":"* * * * *","worker":"w"}""",
            403,
            canvas);
        await ExpectProblemAsync(HttpMethod.Get, CronsUrl(canvas), otherToken, null, 403, canvas);
    }

    [Fact]
    public async Task Deleting_a_canvas_deletes_its_crons()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("cron");
        await PutCronAsync(canvas, "x", """{"schedule":"* * * * *","worker":"w"}""", token, 201);
        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}"),
            cluster.AdminToken,
            expect: 204);

        await using var db = new NpgsqlConnection(cluster.ServiceEnvironment["WORKQ_POSTGRES"]);
        Assert.Equal(
            0,
            await db.ExecuteScalarAsync<long>("select count(*) from crons where canvas = @canvas", new { canvas }));
        Assert.Equal(
            0,
            await db.ExecuteScalarAsync<long>(
                "select count(*) from cron_ticks where canvas = @canvas",
                new { canvas }));
        await ExpectProblemAsync(HttpMethod.Get, CronsUrl(canvas), cluster.AdminToken, null, 404, "no canvas");
    }

    /// <summary>
    /// The one real-time test: two dispatchers, minutely crons, two real minute boundaries. Each tick
    /// is one event; a deleted or rescheduled cron emits nothing; a cron to a missing worker parks.
    /// </summary>
    [Fact]
    public async Task Two_dispatchers_emit_exactly_one_event_per_tick()
    {
        if (cluster.ExtraDispatchers.Count == 0) await cluster.StartDispatcherAsync();
        var (canvas, token) = await cluster.CreateCanvasAsync("cron");
        await cluster.DeployAsync(canvas, "tick", "return Meta.EnqueuedAt;", token: token);
        await cluster.DeployAsync(canvas, "quiet", "return 1;", token: token);
        await PutCronAsync(
            canvas,
            "every-minute",
            """{"schedule":"* * * * *","worker":"tick","event":{"from":"cron"}}""",
            token,
            201);
        await PutCronAsync(canvas, "deleted", """{"schedule":"* * * * *","worker":"quiet"}""", token, 201);
        await cluster.JsonAsync(HttpMethod.Delete, CronsUrl(canvas, "deleted"), token, expect: 204);
        await PutCronAsync(canvas, "moved", """{"schedule":"* * * * *","worker":"quiet"}""", token, 201);
        await PutCronAsync(canvas, "moved", """{"schedule":"0 0 1 1 *","worker":"quiet"}""", token, 200);
        await PutCronAsync(canvas, "to-nobody", """{"schedule":"* * * * *","worker":"ghost","event":7}""", token, 201);

        // Two boundaries are at most two minutes away; a third event would be a duplicate.
        var patience = TimeSpan.FromSeconds(140);
        var traces = await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "tick"),
            t => t.Count >= 2,
            patience,
            "two minutely ticks");
        // Nothing to poll for: a duplicate of the second tick would be traced within these seconds, or never.
        await Task.Delay(TimeSpan.FromSeconds(3));
        traces = await cluster.GetTracesAsync(canvas, "tick");

        var enqueued = traces.Select(t => t.EnqueuedAt).OrderBy(t => t).ToList();
        Assert.True(
            enqueued.Count == 2,
            $"expected one event per tick, saw {enqueued.Count}: {string.Join(", ", enqueued)}\n{cluster.Logs()}");
        Assert.Equal(TimeSpan.FromMinutes(1), Minute(enqueued[1]) - Minute(enqueued[0]));
        Assert.All(enqueued, t => Assert.InRange(t - Minute(t), TimeSpan.Zero, TimeSpan.FromSeconds(5)));
        Assert.All(traces, t => Assert.Equal("""{"from":"cron"}""", t.Event!.ToJsonString()));
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "tick"),
            w => w.Stats.Processed == 2,
            TimeSpan.FromSeconds(10),
            "two processed");

        var cron = (await ListAsync(canvas, token)).Single(c => c.Name == "every-minute");
        Assert.Equal(Minute(enqueued[1]), cron.LastRun);
        Assert.Equal(Minute(enqueued[1]).AddMinutes(1), cron.NextRun);

        Assert.Empty(await cluster.TracesAsync(canvas, "quiet"));
        var unhandled = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/unhandled"),
            token)).As<List<Unhandled>>();
        Assert.Equal("ghost", Assert.Single(unhandled).Worker);
        Assert.Equal("7", unhandled[0].Sample!.GetValue<string>());
        // Stop them, so later tests share a quiet cluster.
        await cluster.JsonAsync(
            HttpMethod.Delete,
            cluster.ControlUrl($"/v1/canvases/{canvas}"),
            cluster.AdminToken,
            expect: 204);
    }

    private static DateTimeOffset Minute(DateTimeOffset t)
        => new(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero);
}
