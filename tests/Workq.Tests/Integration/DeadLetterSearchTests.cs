using Npgsql;
using Workq.Client;

namespace Workq.Tests.Integration;

/// <summary>
/// Dead-letter search (q, reason, from, to), keyset paging, and redrive or discard of what a filter selects, at 10,000
/// dead letters.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DeadLetterSearchTests(WorkqCluster cluster, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);
    private const int Total = 10_000, RealCount = 5;
    /// <summary>In every hundredth seeded payload: a search for "0% o" (a % in the query) finds those.</summary>
    private const string Note = ",\"note\":\"100% off\"";

    /// <summary>One dead letter as the test knows it: what the filters are checked against.</summary>
    private sealed record Row(Guid Id, DateTime At, string Reason, string Body);

    private static readonly string[] Errors
        = ["502 Bad Gateway", "503 Service Unavailable", "Connection refused", "The operation timed out"];

    /// <summary>
    /// A canvas with a worker holding exactly 10,000 dead letters (the per-worker bound, so none is trimmed):
    /// a few dead-lettered for real by a handler that throws under a one-attempt retry policy, the rest written
    /// straight to the database.
    /// </summary>
    private async Task<(string Canvas, string Token, DateTime BaseAt, List<Row> Rows)> SeedAsync()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dls");
        await cluster.DeployAsync(
            canvas,
            "w",
            """throw new InvalidOperationException($"card declined for {Event["customer"]}");""",
            token: token);
        // PATCH answers once the worker instances have the policy, so each of these is dead-lettered on its first
        // failure.
        await cluster.JsonAsync(
            HttpMethod.Patch,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w"),
            token,
            """{"retry":{"maxAttempts":1,"backoffSeconds":[]}}""");
        var real = new List<Guid>();
        for (
            var k = 1;
            k <= RealCount;
            k++) real.Add(
                await cluster.EmitAsync(canvas, "w", $$"""{"order":{{-k}},"customer":"real-{{k}}"}""", token));
        await cluster.EventuallyAsync(
            () => CountAsync(canvas),
            n => n == RealCount,
            Patience,
            "the real dead letters stored");

        var baseAt = DateTime.UtcNow.AddDays(-2);
        baseAt = new DateTime(baseAt.Ticks - baseAt.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var seeded = Enumerable.Range(0, Total - RealCount).Select(i => new Row(Guid.NewGuid(), baseAt.AddSeconds(i),
            i % 3 == 0
                ? "delivery limit: delivered 5 times without completing "
                    + "(a worker process died or lost its connection each time)"
                : $"retries exhausted after 3 attempts; last error: HttpRequestException: {Errors[i % Errors.Length]}",
            $$"""{"order":{{i}},"customer":"cust-{{i % 50}}"{{(i % 100 == 0 ? Note : "")}}}""")).ToList();
        await using (var db = await OpenAsync())
        await using (var insert = new NpgsqlCommand("""
            insert into dead_letters (canvas, worker, event_id, enqueued_at, depth, body, body_text, reason, attempts,
                 dead_lettered_at)
            select @canvas, 'w', id, at, 0, convert_to(body, 'UTF8'), body, reason, 3, at
                 from unnest(@ids, @ats, @bodies, @reasons) as s(id, at, body, reason)
            """, db))
        {
            insert.Parameters.AddWithValue("canvas", canvas);
            insert.Parameters.AddWithValue("ids", seeded.Select(r => r.Id).ToArray());
            insert.Parameters.AddWithValue("ats", seeded.Select(r => r.At).ToArray());
            insert.Parameters.AddWithValue("bodies", seeded.Select(r => r.Body).ToArray());
            insert.Parameters.AddWithValue("reasons", seeded.Select(r => r.Reason).ToArray());
            Assert.Equal(Total - RealCount, await insert.ExecuteNonQueryAsync());
        }
        var rows = seeded.Concat(await RowsAsync(canvas, real)).ToList();
        Assert.Equal(Total, await CountAsync(canvas));
        return (canvas, token, baseAt, rows);
    }

    [Fact]
    public async Task Each_filter_alone_and_combined_selects_exactly_the_matching_dead_letters_pages_list_each_once()
    {
        var (canvas, token, baseAt, rows) = await SeedAsync();
        var real = rows.Where(r => r.Reason.Contains("card declined")).ToList();
        Assert.Equal(RealCount, real.Count);

        // The unfiltered list keeps its shape: a plain array, newest first, here the first 100 with a next page.
        using (var first = await cluster.SendAsync(HttpMethod.Get, Url(canvas, ""), token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var array = (await first.Content.ReadAsStringAsync()).As<List<DeadLetter>>();
            Assert.Equal(100, array.Count);
            Assert.Equal(Ordered(rows).Take(100).Select(r => r.Id), array.Select(d => d.Id));
            var newest = array[0];
            Assert.StartsWith("retries exhausted after 1 attempts; last error:", newest.Reason);
            Assert.Contains("card declined for real-", newest.Reason);
            Assert.Equal(1, newest.Attempts);
            Assert.StartsWith("real-", newest.Event!["customer"]!.GetValue<string>());
            Assert.True(first.Headers.Contains("X-Next-Cursor"));
            Assert.Contains("rel=\"next\"", first.Headers.GetValues("Link").Single());
        }

        var cases = new (string Query, Func<Row, bool> Selects)[]
        {
            ("", _ => true),
            ("q=CUST-7%22", r => Has(r.Body, "cust-7\"")),
            ("q=bad%20gateway", r => Has(r.Reason, "bad gateway")),
            ("q=card%20declined", r => Has(r.Reason, "card declined")),
            ("q=real-3", r => Has(r.Body, "real-3") || Has(r.Reason, "real-3")),
            ("q=0%25%20o", r => Has(r.Body, "0% o")),
            ("q=cust_1", _ => false), // "_" is a character, not a wildcard
            ("reason=Delivery%20limit", r => r.Reason.StartsWith("delivery limit", StringComparison.Ordinal)),
            ("reason=retries%20exhausted", r => r.Reason.StartsWith("retries exhausted", StringComparison.Ordinal)),
            ($"from={Iso(baseAt.AddSeconds(1000))}&to={Iso(baseAt.AddSeconds(2000))}", r => r.At >= baseAt.AddSeconds(
                1000) && r.At < baseAt.AddSeconds(2000)),
            ($"from={Iso(baseAt.AddSeconds(9000))}", r => r.At >= baseAt.AddSeconds(9000)),
            ($"to={Iso(baseAt.AddSeconds(500))}", r => r.At < baseAt.AddSeconds(500)),
            ($"q=cust-7%22&reason=retries%20exhausted&from={Iso(baseAt)}&to={Iso(baseAt.AddSeconds(5000))}",
                r => Has(r.Body, "cust-7\"") && r.Reason.StartsWith("retries exhausted", StringComparison.Ordinal)
                    && r.At < baseAt.AddSeconds(5000)),
        };
        foreach (var (query, selects) in cases)
        {
            var expected = Ordered(rows.Where(selects)).Select(r => r.Id).ToList();
            var (listed, pages) = await PageThroughAsync(canvas, token, query, limit: 1_000);
            Assert.True(
                expected.SequenceEqual(listed),
                $"'{query}': expected {expected.Count} dead letters in order, got {listed.Count}");
            Assert.Equal(Math.Max(1, (expected.Count + 999) / 1_000), pages);
            output.WriteLine($"'{query}': {listed.Count} dead letter(s) in {pages} page(s)");
        }

        var timings = new List<double>();
        for (var n = 0; n < 50; n++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await cluster.SendAsync(
                HttpMethod.Get,
                Url(canvas, cases[n % cases.Length].Query),
                token);
            await response.Content.ReadAsByteArrayAsync();
            timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        timings.Sort();
        output.WriteLine($"search at {Total} dead letters, 50 requests over the {cases.Length} filters "
                         + "(first page of 100): " +
                         $"p50 {timings[24]:F1} ms, p95 {timings[47]:F1} ms, max {timings[^1]:F1} ms");
    }

    [Fact]
    public async Task Redrive_and_discard_act_on_exactly_what_the_filter_selects()
    {
        var (canvas, token, baseAt, rows) = await SeedAsync();
        await cluster.DeployAsync(canvas, "w", "return \"fixed\";", token: token, expect: 200);
        // "processed" counts every finished run, failed ones included: the real dead letters' five.
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.Processed == RealCount,
            Patience,
            "the real runs counted");

        const string redriveQuery = "q=cust-7%22&reason=retries%20exhausted";
        var redrive = rows.Where(
            r => Has(r.Body, "cust-7\"") && r.Reason.StartsWith("retries exhausted", StringComparison.Ordinal)).Select(
                r => r.Id).ToHashSet();
        var redriven = await cluster.JsonAsync(
            HttpMethod.Post,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters/redrive?{redriveQuery}"),
            token);
        Assert.Equal(redrive.Count, redriven.As<RedriveAnswer>().Redriven);
        Assert.Equal(
            rows.Select(r => r.Id).Where(id => !redrive.Contains(id)).Order(),
            (await IdsAsync(canvas)).Order());
        // Each redriven event runs once, with the fixed code.
        await cluster.EventuallyAsync(
            () => cluster.GetWorkerAsync(canvas, "w"),
            w => w.Stats.Processed == RealCount + redrive.Count,
            Patience,
            $"{redrive.Count} redriven events processed");

        var (from, to) = (baseAt.AddSeconds(2000), baseAt.AddSeconds(4000));
        var discard = rows.Where(r => !redrive.Contains(r.Id)
            && r.Reason.StartsWith("delivery limit", StringComparison.Ordinal)
            && r.At >= from
            && r.At < to).Select(r => r.Id).ToHashSet();
        var discarded = await cluster.JsonAsync(
            HttpMethod.Delete,
            Url(canvas, $"reason=delivery%20limit&from={Iso(from)}&to={Iso(to)}"),
            token);
        Assert.Equal(discard.Count, discarded.As<DiscardAnswer>().Discarded);
        Assert.Equal(
            rows.Select(r => r.Id).Where(id => !redrive.Contains(id) && !discard.Contains(id)).Order(),
            (await IdsAsync(canvas)).Order());
        var stats = (await cluster.GetWorkerAsync(canvas, "w")).Stats;
        Assert.Equal(RealCount + redrive.Count, stats.Processed);
        Assert.Equal(RealCount, stats.Failed);
    }

    [Fact]
    public async Task Bad_search_parameters_are_refused_naming_the_parameter_and_another_canvas_cannot_search()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("dls");
        await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
        await using (var db = await OpenAsync())
        await using (var insert = new NpgsqlCommand("""
            insert into dead_letters (canvas, worker, event_id, enqueued_at, depth, body, body_text, reason, attempts)
            values (@canvas, 'w', gen_random_uuid(), now(), 0, convert_to('{"secret":"s3cr3t"}', 'UTF8'),
                    '{"secret":"s3cr3t"}', 'gave up', 1)
            """, db))
        {
            insert.Parameters.AddWithValue("canvas", canvas);
            await insert.ExecuteNonQueryAsync();
        }

        (string Query, string Parameter)[] bad =
        [
            ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"), ("limit=-5", "limit"),
            ("cursor=not-a-cursor", "cursor"), ("from=yesterday", "from"), ("from=1%2F2%2F2026", "from"),
            ("to=2026-13-40T00:00:00Z", "to"), ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
            ("q=", "q"), ("q=a&q=b", "q"), ($"reason={new string('x', 501)}", "reason"),
        ];
        foreach (var (query, parameter) in bad)
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete })
            {
                // Redrive and discard take only the filters: paging means nothing to them.
                if (method != HttpMethod.Get && parameter is "limit" or "cursor") continue;
                var url = method == HttpMethod.Post
                    ? cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters/redrive?{query}")
                    : Url(canvas, query);
                using var response = await cluster.SendAsync(method, url, token);
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var detail = (await response.Content.ReadAsStringAsync()).As<Problem>().Detail;
                Assert.Contains($"\"{parameter}\"", detail);
            }
        Assert.Equal(1, await CountAsync(canvas));

        var (_, otherToken) = await cluster.CreateCanvasAsync("dls");
        foreach (var (method, url) in new[] {
            (HttpMethod.Get, Url(canvas, "q=s3cr3t")),
            (HttpMethod.Delete, Url(canvas, "q=s3cr3t")),
            (HttpMethod.Post, cluster.ControlUrl(
                         $"/v1/canvases/{canvas}/workers/w/dead-letters/redrive?q=s3cr3t")) })
        {
            using var response = await cluster.SendAsync(method, url, otherToken);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.DoesNotContain("s3cr3t", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(1, await CountAsync(canvas));
        Assert.Single((await cluster.JsonAsync(HttpMethod.Get, Url(canvas, "q=S3CR3T"), token))!.AsArray());
        // A date alone and a time with an offset are ISO 8601 too.
        Assert.Single((await cluster.JsonAsync(
            HttpMethod.Get,
            Url(canvas, "from=2000-01-01&to=2999-12-31T00:00:00%2B02:00"),
            token))!.AsArray());
    }

    private Uri Url(string canvas, string query)
        => cluster.ControlUrl($"/v1/canvases/{canvas}/workers/w/dead-letters" + (query.Length > 0 ? "?" + query : ""));

    /// <summary>
    /// Follows the Link rel="next" header from the first page to the last, checking it agrees with X-Next-Cursor.
    /// </summary>
    private async Task<(List<Guid> Ids, int Pages)> PageThroughAsync(
        string canvas,
        string token,
        string query,
        int limit)
    {
        var ids = new List<Guid>();
        var pages = 0;
        for (Uri? url = Url(canvas, (query.Length > 0 ? query + "&" : "") + $"limit={limit}"); url is not null; pages++)
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, url, token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = (await response.Content.ReadAsStringAsync()).As<List<DeadLetter>>();
            Assert.InRange(page.Count, 0, limit);
            ids.AddRange(page.Select(d => d.Id));
            url = null;
            if (response.Headers.TryGetValues("Link", out var links))
            {
                var link = links.Single();
                Assert.Equal(limit, page.Count);
                Assert.Contains("cursor=" + response.Headers.GetValues("X-Next-Cursor").Single(), link);
                url = cluster.ControlUrl(link[1..link.IndexOf('>')]);
            }
            Assert.True(pages < 100, "paging does not end");
        }
        return (ids, pages);
    }

    private static IEnumerable<Row> Ordered(IEnumerable<Row> rows) =>
        rows.OrderByDescending(r => r.At).ThenByDescending(r => r.Id.ToString("N"), StringComparer.Ordinal);

    private static bool Has(string text, string part) => text.Contains(part, StringComparison.OrdinalIgnoreCase);

    private static string Iso(DateTime at)
        => Uri.EscapeDataString(at.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin)
        {
            Database = cluster.Database
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task<long> CountAsync(string canvas) => (await IdsAsync(canvas)).Count;

    private async Task<List<Guid>> IdsAsync(string canvas)
        => (await RowsAsync(canvas, null)).Select(r => r.Id).ToList();

    private async Task<List<Row>> RowsAsync(string canvas, IReadOnlyList<Guid>? ids)
    {
        await using var db = await OpenAsync();
        await using var select = new NpgsqlCommand("""
            select event_id, dead_lettered_at, reason, convert_from(body, 'UTF8') from dead_letters
             where canvas = @canvas and worker = 'w' and (@ids::uuid[] is null or event_id = any(@ids))
            """, db);
        select.Parameters.AddWithValue("canvas", canvas);
        select.Parameters.Add(new NpgsqlParameter(
            "ids",
            NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid)
        {
            Value = (object?)ids?.ToArray() ?? DBNull.Value
        });
        var rows = new List<Row>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(
            new Row(reader.GetGuid(0), reader.GetDateTime(1), reader.GetString(2), reader.GetString(3)));
        return rows;
    }
}
