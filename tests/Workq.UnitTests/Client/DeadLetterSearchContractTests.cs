using Workq.Cli;
using Workq.Client;

namespace Workq.UnitTests.Client;

/// <summary>
/// Dead-letter search in the .NET client and the CLI: the filters go out as API.md's query parameters, the next cursor
/// comes back.
/// </summary>
public sealed class DeadLetterSearchContractTests
{
    private static readonly Guid Id = Guid.Parse("0b8e2d1c-7a55-4c7e-9d0a-6f1f3c2b4a11");
    private static readonly string Page = $$"""
        [{"id":"{{Id}}","event":{"to":"ada"},"reason":"retries exhausted","attempts":3,
          "deadLetteredAt":"2026-11-23T10:00:00Z"}]
        """;

    private static ScriptedHandler Recording(List<string> urls, string? nextCursor = null) => new((request, _) =>
    {
        urls.Add($"{request.Method} {request.RequestUri!.PathAndQuery}");
        var answer = ScriptedHandler.Json(HttpStatusCode.OK, request.Method == HttpMethod.Get
            ? Page
            : request.Method == HttpMethod.Post ? """{"redriven":3}""" : """{"discarded":2}""");
        if (nextCursor is not null) answer.Headers.Add("X-Next-Cursor", nextCursor);
        return answer;
    });

    [Fact]
    public async Task The_client_sends_the_filters_and_reads_the_next_cursor()
    {
        var urls = new List<string>();
        using var client = new WorkqControlClient(
            new Uri("http://control.test/base"),
            "tok",
            new HttpClient(Recording(urls, "abc_-1")),
            FastRetry.Options);
        var filter = new DeadLetterFilter(
            "100% off & more",
            "retries exhausted",
            new DateTimeOffset(2026, 1, 31, 13, 0, 0, TimeSpan.FromHours(1)),
            new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero));

        var page = await client.SearchDeadLettersAsync("shop", "mail", filter, limit: 1000, cursor: "prev");
        Assert.Equal(Id, Assert.Single(page.Items).Id);
        Assert.Equal("abc_-1", page.NextCursor);
        Assert.Equal(3, await client.RedriveDeadLettersAsync("shop", "mail", filter));
        Assert.Equal(2, await client.DiscardDeadLettersAsync("shop", "mail", new DeadLetterFilter(Q: "x")));
        using var plain = new WorkqControlClient(
            new Uri("http://control.test/"),
            "tok",
            new HttpClient(Recording(urls)),
            FastRetry.Options);
        Assert.Null((await plain.SearchDeadLettersAsync("shop", "mail")).NextCursor);

        const string filters = "q=100%25%20off%20%26%20more&reason=retries%20exhausted"
            + "&from=2026-01-31T12%3A00%3A00.0000000Z&to=2026-02-01T00%3A00%3A00.0000000Z";
        Assert.Equal(
        [
            $"GET /base/v1/canvases/shop/workers/mail/dead-letters?{filters}&limit=1000&cursor=prev",
            $"POST /base/v1/canvases/shop/workers/mail/dead-letters/redrive?{filters}",
            "DELETE /base/v1/canvases/shop/workers/mail/dead-letters?q=x",
            "GET /v1/canvases/shop/workers/mail/dead-letters",
        ], urls);
    }

    [Fact]
    public async Task The_cli_passes_the_filters_and_prints_where_the_next_page_is()
    {
        var urls = new List<string>();
        async Task<(int Code, string Out, string Err)> RunAsync(string? nextCursor, params string[] args)
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var code = await WorkqCli.RunAsync(
                [.. args, "--url", "http://control.test", "--token", "tok"],
                output,
                error,
                _ => null,
                Recording(urls, nextCursor));
            return (code, output.ToString(), error.ToString());
        }

        var listed = await RunAsync(
            "next1",
            "dead-letters",
            "shop/mail",
            "--q",
            "timeout",
            "--reason",
            "delivery limit",
            "--from",
            "2026-01-31T00:00:00Z",
            "--limit",
            "50");
        Assert.Equal(0, listed.Code);
        Assert.Contains(Id.ToString(), listed.Out);
        Assert.Equal("more: --cursor next1", listed.Out.Trim().Split('\n')[^1]);
        var json = await RunAsync("next2", "dead-letters", "shop/mail", "--cursor", "next1", "--json");
        Assert.DoesNotContain("--cursor", json.Out);
        var redrive = await RunAsync(null, "dead-letters", "shop/mail", "--to", "2026-02-01T00:00:00Z", "--redrive");
        Assert.Equal("redrove 3 dead letter(s) into shop/mail", redrive.Out.Trim());
        var discard = await RunAsync(null, "dead-letters", "shop/mail", "--q", "x", "--discard");
        Assert.Equal("discarded 2 dead letter(s) of shop/mail", discard.Out.Trim());
        Assert.Equal(
        [
            "GET /v1/canvases/shop/workers/mail/dead-letters?q=timeout&reason=delivery%20limit"
            + "&from=2026-01-31T00%3A00%3A00.0000000Z&limit=50",
            "GET /v1/canvases/shop/workers/mail/dead-letters?cursor=next1",
            "POST /v1/canvases/shop/workers/mail/dead-letters/redrive?to=2026-02-01T00%3A00%3A00.0000000Z",
            "DELETE /v1/canvases/shop/workers/mail/dead-letters?q=x",
        ], urls);

        var badTime = await RunAsync(null, "dead-letters", "shop/mail", "--from", "yesterday");
        Assert.Equal(2, badTime.Code);
        Assert.Contains("--from must be an ISO 8601", badTime.Err);
        var pagedRedrive = await RunAsync(null, "dead-letters", "shop/mail", "--redrive", "--limit", "5");
        Assert.Equal(2, pagedRedrive.Code);
        Assert.Equal(4, urls.Count);
    }
}
