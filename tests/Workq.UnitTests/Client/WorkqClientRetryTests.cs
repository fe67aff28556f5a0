using System.Net.Http.Json;
using Workq.Client;

namespace Workq.UnitTests.Client;

/// <summary>
/// WorkqClient's retries and error mapping against scripted answers: which answers are retried, and what is thrown.
/// </summary>
public sealed class WorkqClientRetryTests
{
    [Fact]
    public async Task A_503_that_persists_is_thrown_after_the_retries_with_its_problem_details()
    {
        var attempts = 0;
        var handler = new ScriptedHandler((_, _) =>
        {
            Interlocked.Increment(ref attempts);
            return ScriptedHandler.Unavailable();
        });
        using var client = new WorkqClient(
            new Uri("http://workq.invalid/"),
            "t",
            new HttpClient(handler),
            FastRetry.Options);

        var error = await Assert.ThrowsAsync<WorkqException>(() => client.EmitAsync("c", "w", 1));

        Assert.Equal(4, attempts);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal("Service unavailable", error.Title);
        Assert.Equal("The broker did not confirm.", error.Detail);
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_retried_and_one_without_it_is_thrown_at_once()
    {
        var attempts = 0;
        var rateLimited = new ScriptedHandler((_, _) => Interlocked.Increment(ref attempts) == 1
            ? ScriptedHandler.Problem(
                HttpStatusCode.TooManyRequests,
                "Too many requests",
                "Canvas 'c' is over its emit rate.",
                TimeSpan.FromMilliseconds(1))
            : new HttpResponseMessage(HttpStatusCode.Accepted)
            {
                Content = JsonContent.Create(new { id = Guid.CreateVersion7(), enqueuedAt = DateTimeOffset.UtcNow })
            });
        using (var client = new WorkqClient(
            new Uri("http://workq.invalid/"),
            "t",
            new HttpClient(rateLimited),
            FastRetry.Options))
        {
            await client.EmitAsync("c", "w", 1);
        }
        Assert.Equal(2, attempts);

        attempts = 0;
        var full = new ScriptedHandler((_, _) =>
        {
            Interlocked.Increment(ref attempts);
            return ScriptedHandler.Problem(
                HttpStatusCode.TooManyRequests,
                "Queue full",
                "Queue full: worker c/w already holds its limit.",
                retryAfter: null);
        });
        using var fullClient = new WorkqClient(
            new Uri("http://workq.invalid/"),
            "t",
            new HttpClient(full),
            FastRetry.Options);
        var error = await Assert.ThrowsAsync<WorkqException>(() => fullClient.EmitAsync("c", "w", 1));
        Assert.Equal(1, attempts);
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal("Queue full", error.Title);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_then_surfaces_as_HttpRequestException()
    {
        using var client = new WorkqClient(new Uri("http://127.0.0.1:1/"), "t", retry: FastRetry.Options);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.EmitAsync("c", "w", 1));
    }
}
