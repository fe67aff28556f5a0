using Workq.Cli;

namespace Workq.UnitTests.Client;

/// <summary>
/// The CLI commands over API.md routes that other branches are still building (dead letters, purge,
/// crons), run against scripted answers in the shapes API.md promises.
/// </summary>
public sealed class CliContractTests
{
    private static async Task<(int Code, string Out, string Err, ScriptedHandler Handler)> RunAsync(
        Func<HttpRequestMessage, string, HttpResponseMessage> answer,
        params string[] args)
    {
        var handler = new ScriptedHandler(answer);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await WorkqCli.RunAsync(
            [.. args, "--url", "http://control.test", "--token", "tok"],
            output,
            error,
            _ => null,
            handler);
        return (code, output.ToString(), error.ToString(), handler);
    }

    [Fact]
    public async Task Dead_letters_are_listed_redriven_and_discarded()
    {
        var id = Guid.NewGuid();
        var list = await RunAsync((_, _) => ScriptedHandler.Json(HttpStatusCode.OK,
            $$"""
            [{"id":"{{id}}","event":{"to":"ada"},"reason":"delivery limit","attempts":5,
              "deadLetteredAt":"2026-11-23T10:00:00Z"}]
            """),
            "dead-letters", "shop/mail");
        Assert.Equal(0, list.Code);
        var lines = list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ID\s+ATTEMPTS\s+DEAD-LETTERED\s+REASON\s+EVENT$", lines[0]);
        Assert.Equal($"{id}  5         2026-11-23 10:00:00Z  delivery limit  {{\"to\":\"ada\"}}", lines[1]);
        Assert.Equal(
            (HttpMethod.Get, "/v1/canvases/shop/workers/mail/dead-letters"),
            (list.Handler.Requests[0].Method, list.Handler.Requests[0].Path));

        var json = await RunAsync((_, _) => ScriptedHandler.Json(
            HttpStatusCode.OK,
            $$"""[{"id":"{{id}}","event":1,"reason":"r","attempts":5,"deadLetteredAt":"2026-11-23T10:00:00Z"}]"""),
            "dead-letters", "shop/mail", "--json");
        Assert.Equal(id.ToString(), JsonNode.Parse(json.Out)![0]!["id"]!.GetValue<string>());

        var redrive = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, """{"redriven":3}"""),
            "dead-letters",
            "shop/mail",
            "--redrive");
        Assert.Equal("redrove 3 dead letter(s) into shop/mail", redrive.Out.Trim());
        Assert.Equal(
            (HttpMethod.Post, "/v1/canvases/shop/workers/mail/dead-letters/redrive"),
            (redrive.Handler.Requests[0].Method, redrive.Handler.Requests[0].Path));

        var discard = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, """{"discarded":2}"""),
            "dead-letters",
            "shop/mail",
            "--discard");
        Assert.Equal("discarded 2 dead letter(s) of shop/mail", discard.Out.Trim());
        Assert.Equal(
            (HttpMethod.Delete, "/v1/canvases/shop/workers/mail/dead-letters"),
            (discard.Handler.Requests[0].Method, discard.Handler.Requests[0].Path));
    }

    [Fact]
    public async Task Purge_drops_the_queue()
    {
        var purge = await RunAsync(
            (_, _) => ScriptedHandler.Json(HttpStatusCode.OK, """{"purged":7}"""),
            "purge",
            "shop/mail");
        Assert.Equal((0, "purged 7 event(s) from shop/mail"), (purge.Code, purge.Out.Trim()));
        Assert.Equal(
            (HttpMethod.Delete, "/v1/canvases/shop/workers/mail/events"),
            (purge.Handler.Requests[0].Method, purge.Handler.Requests[0].Path));
    }

    [Fact]
    public async Task Crons_are_set_listed_and_deleted()
    {
        var set = await RunAsync((_, _) => ScriptedHandler.Json(HttpStatusCode.Created, "{}"),
            "crons", "set", "shop/nightly", "--schedule", "0 3 * * *", "--worker", "report",
            "--event", """{"full":true}""");
        Assert.Equal((0, "cron shop/nightly: \"0 3 * * *\" -> report"), (set.Code, set.Out.Trim()));
        var put = set.Handler.Requests[0];
        Assert.Equal((HttpMethod.Put, "/v1/canvases/shop/crons/nightly"), (put.Method, put.Path));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"schedule":"0 3 * * *","worker":"report","event":{"full":true}}"""),
            JsonNode.Parse(put.Body)), put.Body);

        var list = await RunAsync((_, _) => ScriptedHandler.Json(HttpStatusCode.OK,
            """
            [{"name":"nightly","schedule":"0 3 * * *","worker":"report","event":null,
              "lastRun":null,"nextRun":"2026-11-24T03:00:00Z"}]
            """), "crons", "list", "shop");
        var lines = list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+SCHEDULE\s+WORKER\s+NEXT-RUN\s+LAST-RUN\s+EVENT$", lines[0]);
        Assert.Equal("nightly  0 3 * * *  report  2026-11-24 03:00:00Z  -         null", lines[1]);

        var badSchedule = await RunAsync((_, _) => new HttpResponseMessage(HttpStatusCode.BadRequest)
        {
            Content = new StringContent(
                """{"title":"Bad request","status":400,"detail":"Invalid schedule 'often'."}""",
                System.Text.Encoding.UTF8,
                "application/problem+json"),
        }, "crons", "set", "shop/x", "--schedule", "often", "--worker", "report");
        Assert.Equal(
            (1, "workq: 400 Bad request: Invalid schedule 'often'."),
            (badSchedule.Code, badSchedule.Err.Trim()));

        var delete = await RunAsync(
            (_, _) => new HttpResponseMessage(HttpStatusCode.NoContent),
            "crons",
            "delete",
            "shop/nightly");
        Assert.Equal((0, "deleted cron shop/nightly"), (delete.Code, delete.Out.Trim()));
        Assert.Equal(
            (HttpMethod.Delete, "/v1/canvases/shop/crons/nightly"),
            (delete.Handler.Requests[0].Method, delete.Handler.Requests[0].Path));
    }
}
