using Workq.Client;

namespace Workq.UnitTests.Client;

/// <summary>
/// The routes of docs/API.md that are being built on other branches (un-enqueue, purge, dead letters,
/// crons): the client sends what the contract says and reads what it promises.
/// </summary>
public sealed class ControlClientContractTests
{
    private static readonly Guid Id = Guid.Parse("0b8e2d1c-7a55-4c7e-9d0a-6f1f3c2b4a11");

    private static (WorkqControlClient Client, ScriptedHandler Handler) Client(
        Func<HttpRequestMessage, string, HttpResponseMessage> answer)
    {
        var handler = new ScriptedHandler(answer);
        return (new WorkqControlClient(
            new Uri("http://control.test/base"),
            "tok",
            new HttpClient(handler),
            FastRetry.Options), handler);
    }

    [Fact]
    public async Task Unenqueue_and_purge()
    {
        var (client, handler) = Client((request, _) => request.RequestUri!.AbsolutePath.EndsWith("/events")
            ? ScriptedHandler.Json(HttpStatusCode.OK, """{"purged":12}""")
            : new HttpResponseMessage(HttpStatusCode.Accepted));
        using (client)
        {
            await client.UnenqueueAsync("shop", "mail", Id);
            Assert.Equal(12, await client.PurgeAsync("shop", "mail"));
        }
        Assert.Equal([(HttpMethod.Delete, $"/base/v1/canvases/shop/workers/mail/events/{Id}", ""), (HttpMethod
            .Delete, "/base/v1/canvases/shop/workers/mail/events", "")],
            handler.Requests);
    }

    [Fact]
    public async Task Dead_letters_list_redrive_and_discard()
    {
        var (client, handler) = Client((request, _) => (request.Method.Method, request.RequestUri!.AbsolutePath) switch
        {
            ("GET", _) => ScriptedHandler.Json(HttpStatusCode.OK,
                $$"""
                [{"id":"{{Id}}","event":{"to":"ada"},"reason":"delivery-limit","attempts":5,
                  "deadLetteredAt":"2026-11-23T10:00:00Z"}]
                """),
            ("POST", _) => ScriptedHandler.Json(HttpStatusCode.OK, """{"redriven":3}"""),
            _ => ScriptedHandler.Json(HttpStatusCode.OK, """{"discarded":2}"""),
        });
        using (client)
        {
            var letter = Assert.Single(await client.ListDeadLettersAsync("shop", "mail"));
            Assert.Equal(
                (Id, "ada", "delivery-limit", 5),
                (letter.Id, letter.Event!["to"]!.GetValue<string>(), letter.Reason, letter.Attempts));
            Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), letter.DeadLetteredAt);
            Assert.Equal(3, await client.RedriveDeadLettersAsync("shop", "mail"));
            Assert.Equal(2, await client.DiscardDeadLettersAsync("shop", "mail"));
        }
        Assert.Equal(
            [(HttpMethod.Get, "/base/v1/canvases/shop/workers/mail/dead-letters"), (HttpMethod
                .Post, "/base/v1/canvases/shop/workers/mail/dead-letters/redrive"),
             (HttpMethod.Delete, "/base/v1/canvases/shop/workers/mail/dead-letters")],
            handler.Requests.Select(r => (r.Method, r.Path)));
    }

    [Fact]
    public async Task Crons_put_list_and_delete()
    {
        var (client, handler) = Client((request, _) => request.Method == HttpMethod.Get
            ? ScriptedHandler.Json(HttpStatusCode.OK, """
                [{"name":"nightly","schedule":"0 3 * * *","worker":"report","event":{"full":true},
                  "lastRun":null,"nextRun":"2026-11-24T03:00:00Z"}]
                """)
            : request.Method == HttpMethod.Put
                ? ScriptedHandler.Json(HttpStatusCode.Created, "{}")
                : new HttpResponseMessage(HttpStatusCode.NoContent));
        using (client)
        {
            await client.PutCronAsync("shop", "nightly", "0 3 * * *", "report", new { full = true });
            var cron = Assert.Single(await client.ListCronsAsync("shop"));
            Assert.Equal(
                ("nightly", "0 3 * * *", "report", true),
                (cron.Name, cron.Schedule, cron.Worker, cron.Event!["full"]!.GetValue<bool>()));
            Assert.Null(cron.LastRun);
            Assert.Equal(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero), cron.NextRun);
            await client.DeleteCronAsync("shop", "nightly");
        }
        var put = handler.Requests[0];
        Assert.Equal((HttpMethod.Put, "/base/v1/canvases/shop/crons/nightly"), (put.Method, put.Path));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"schedule":"0 3 * * *","worker":"report","event":{"full":true}}"""),
            JsonNode.Parse(put.Body)));
        Assert.Equal(
            (HttpMethod.Delete, "/base/v1/canvases/shop/crons/nightly"),
            (handler.Requests[2].Method, handler.Requests[2].Path));
    }

    [Fact]
    public async Task Writes_are_not_retried_but_reads_are()
    {
        var (client, handler) = Client((_, _) => ScriptedHandler.Unavailable());
        using (client)
        {
            await Assert.ThrowsAsync<WorkqException>(() => client.PauseAsync("shop", "mail"));
            Assert.Single(handler.Requests);
            await Assert.ThrowsAsync<WorkqException>(() => client.ListWorkersAsync("shop"));
            Assert.Equal(1 + 4, handler.Requests.Count);
        }
    }

    [Fact]
    public async Task Names_are_escaped_into_the_path_and_the_bearer_token_sent()
    {
        string? authorization = null;
        var (client, handler) = Client((request, _) =>
        {
            authorization = request.Headers.Authorization?.ToString();
            return ScriptedHandler.Json(HttpStatusCode.OK, "[]");
        });
        using (client) await client.ListWorkersAsync("a b/c");
        Assert.Equal("Bearer tok", authorization);
        Assert.Equal("/base/v1/canvases/a%20b%2Fc/workers", handler.Requests[0].Path);
    }
}
