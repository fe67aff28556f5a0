using System.IO.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;
using Workq.Shared.Handlers.Isolation;
using Workq.Worker.Isolation;

namespace Workq.UnitTests;

/// <summary>
/// The supervisor's half of a handler's Http against a scripted destination: what it sends back to the runner, the caps
/// it holds whatever the runner asks, and the requests it refuses as a broken protocol.
/// </summary>
public sealed class RunnerHttpRelayTests : IAsyncDisposable
{
    private readonly Pipe channel = new();
    private readonly FrameOutput output;
    private readonly FrameInput input;
    private readonly Scripted destination = new();

    public RunnerHttpRelayTests()
    {
        output = new FrameOutput(channel.Writer.AsStream());
        input = new FrameInput(channel.Reader.AsStream());
    }

    private RunnerHttpRelay Relay(int maxBytes = 1_000, int concurrency = 2) =>
        new(
            new HttpMessageInvoker(destination),
            output,
            new HandlerHttpLimits(maxBytes, concurrency),
            NullLogger.Instance);

    private static HttpRequestFrame Get(long run, int id, string path = "/")
        => new(run, id, "GET", "http://sink.test" + path, [], null);

    [Fact]
    public async Task A_response_comes_back_as_a_head_its_body_and_an_end()
    {
        destination.Answer = _ => Task.FromResult(
            new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new StringContent("hello") });
        Relay().Start(Get(1, 1), CancellationToken.None, TimeSpan.FromSeconds(10));

        var head = HttpResponseFrame.Read(await NextAsync(HttpResponseFrame.Type));
        Assert.Equal(202, head.Status);
        Assert.Contains(
            head.Headers,
            h => h.Key == "Content-Type" && h.Value.StartsWith("text/plain", StringComparison.Ordinal));
        Assert.Equal(
            "hello",
            System.Text.Encoding.UTF8.GetString(HttpBodyFrame.Read(await NextAsync(HttpBodyFrame.Type)).Chunk.Span));
        Assert.Equal(
            new HttpEndFrame(1, HttpFailure.None, null),
            HttpEndFrame.Read(await NextAsync(HttpEndFrame.Type)));
    }

    [Fact]
    public async Task A_body_past_the_cap_stops_there_with_a_failure_that_names_the_cap()
    {
        destination.Answer = _ => Task.FromResult(
            new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new Endless()) });
        Relay(maxBytes: 200_000).Start(Get(1, 1), CancellationToken.None, TimeSpan.FromSeconds(10));

        await NextAsync(HttpResponseFrame.Type);
        long relayed = 0;
        while (await input.ReadAsync(CancellationToken.None) is { } frame)
        {
            if (frame.Type == HttpBodyFrame.Type)
            {
                relayed += HttpBodyFrame.Read(frame.Payload.Span).Chunk.Length;
                continue;
            }
            var end = HttpEndFrame.Read(frame.Payload.Span);
            Assert.Equal(HttpFailure.Request, end.Failure);
            Assert.Contains("WORKQ_HANDLER_HTTP_MAX_BYTES", end.Message, StringComparison.Ordinal);
            break;
        }
        Assert.InRange(relayed, 1, 200_000);
    }

    [Fact]
    public async Task More_requests_than_the_runner_was_told_or_a_reused_id_break_the_protocol()
    {
        destination.Answer = request => Hold(request);
        var relay = Relay(concurrency: 2);
        relay.Start(Get(1, 1), CancellationToken.None, TimeSpan.FromSeconds(10));
        Assert.Contains("reusing request id 1", Assert.Throws<InvalidDataException>(
            () => relay.Start(Get(1, 1), CancellationToken.None, TimeSpan.FromSeconds(10))).Message);
        relay.Start(Get(1, 2), CancellationToken.None, TimeSpan.FromSeconds(10));
        Assert.Contains("past the 2 requests", Assert.Throws<InvalidDataException>(
            () => relay.Start(Get(1, 3), CancellationToken.None, TimeSpan.FromSeconds(10))).Message);
        relay.EndAll();
        Assert.Equal(HttpFailure.Cancelled, HttpEndFrame.Read(await NextAsync(HttpEndFrame.Type)).Failure);
        Assert.Equal(HttpFailure.Cancelled, HttpEndFrame.Read(await NextAsync(HttpEndFrame.Type)).Failure);
    }

    [Fact]
    public async Task The_end_of_a_run_ends_its_requests_and_no_other_runs()
    {
        destination.Answer = request => request.RequestUri!.AbsolutePath == "/quick"
            ? Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK))
            : Hold(request);
        var relay = Relay(concurrency: 4);
        relay.Start(Get(1, 1, "/held"), CancellationToken.None, TimeSpan.FromSeconds(10));
        relay.Start(Get(2, 2, "/held"), CancellationToken.None, TimeSpan.FromSeconds(10));
        await destination.Arrived(2);

        relay.EndRun(1);
        var end = HttpEndFrame.Read(await NextAsync(HttpEndFrame.Type));
        Assert.Equal((1, HttpFailure.Cancelled), (end.RequestId, end.Failure));
        relay.EndRun(2);
        Assert.Equal(2, HttpEndFrame.Read(await NextAsync(HttpEndFrame.Type)).RequestId);
    }

    [Fact]
    public async Task The_runs_deadline_ends_a_request_that_the_destination_holds()
    {
        destination.Answer = request => Hold(request);
        Relay().Start(Get(1, 1), CancellationToken.None, TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpFailure.Cancelled, HttpEndFrame.Read(await NextAsync(HttpEndFrame.Type)).Failure);
    }

    [Theory]
    [InlineData("GE T", "http://sink.test/", "method")]
    [InlineData("GET", "file:///etc/passwd", "not an absolute http or https URI")]
    [InlineData("GET", "/relative", "not an absolute http or https URI")]
    public async Task A_request_httpclient_would_refuse_fails_without_reaching_anyone(
        string method,
        string uri,
        string because)
    {
        Relay().Start(
            new HttpRequestFrame(1, 1, method, uri, [], null),
            CancellationToken.None,
            TimeSpan.FromSeconds(10));
        var end = HttpEndFrame.Read(await NextAsync(HttpEndFrame.Type));
        Assert.Equal(HttpFailure.Request, end.Failure);
        Assert.Contains(because, end.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, destination.Count);
    }

    private static async Task<HttpResponseMessage> Hold(HttpRequestMessage request)
    {
        await Task.Delay(
            Timeout.Infinite,
            request.Options.TryGetValue(Scripted.Token, out var token) ? token : CancellationToken.None);
        return new HttpResponseMessage(HttpStatusCode.OK);
    }

    private async Task<byte[]> NextAsync(byte type)
    {
        var frame = await input.ReadAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(frame);
        Assert.Equal(type, frame.Value.Type);
        return frame.Value.Payload.ToArray();
    }

    public async ValueTask DisposeAsync() => await output.DisposeAsync();

    private sealed class Scripted : HttpMessageHandler
    {
        public static readonly HttpRequestOptionsKey<CancellationToken> Token = new("token");
        private int count;
        private readonly SemaphoreSlim arrivals = new(0);

        public Func<HttpRequestMessage, Task<HttpResponseMessage>> Answer { get; set; }
            = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        public int Count => count;

        public async Task Arrived(int requests)
        {
            for (var i = 0; i < requests; i++) await arrivals.WaitAsync(TimeSpan.FromSeconds(10));
        }

        protected override Task<HttpResponseMessage> SendAsync(
            HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref count);
            request.Options.Set(Token, cancellationToken);
            arrivals.Release();
            return Answer(request);
        }
    }

    /// <summary>A body that never ends.</summary>
    private sealed class Endless : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => count;
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
