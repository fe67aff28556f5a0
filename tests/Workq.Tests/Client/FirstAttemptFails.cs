namespace Workq.Tests.Client;

/// <summary>
/// Fails the first request with 503 + Retry-After: 0, the way an emitter whose broker did not confirm
/// answers (or a proxy that lost the emitter's answer), and passes the rest through.
/// </summary>
public sealed class FirstAttemptFails(FailurePoint point) : DelegatingHandler(new SocketsHttpHandler())
{
    private int attempts;

    public ConcurrentQueue<string?> IdempotencyKeys { get; } = new();
    public ConcurrentQueue<string> RequestBodies { get; } = new();

    /// <summary>What the emitter answered to the request whose answer was lost (AfterForwarding).</summary>
    public string? LostAnswer { get; private set; }

    public int Attempts => attempts;

    protected override async Task<HttpResponseMessage> SendAsync(
        HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        IdempotencyKeys.Enqueue(request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null);
        RequestBodies.Enqueue(
            request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken));
        if (Interlocked.Increment(ref attempts) > 1) return await base.SendAsync(request, cancellationToken);

        if (point == FailurePoint.AfterForwarding)
        {
            using var delivered = await base.SendAsync(request, cancellationToken);
            Assert.Equal(HttpStatusCode.Accepted, delivered.StatusCode);
            LostAnswer = await delivered.Content.ReadAsStringAsync(cancellationToken);
        }
        return ScriptedHandler.Unavailable();
    }
}
