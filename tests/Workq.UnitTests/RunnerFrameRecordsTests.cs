using System.Net;
using Workq.Shared.Handlers.Isolation;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.UnitTests;

/// <summary>
/// Every frame of the runner channel: it reads back as written, and a runner that sends it cut short, with bytes left
/// over, or with a field no runner writes is refused with <see cref="InvalidDataException"/> naming the frame, never an
/// index error.
/// </summary>
public sealed class RunnerFrameRecordsTests
{
    private static readonly KeyValuePair<string, string>[] Headers = [new("Accept", "application/json"), new(
        "X-Tag",
        "a"), new("X-Tag", "b")];

    /// <summary>One written frame of each type, and a check that the read gives back its fields.</summary>
    public static TheoryData<string> Frames => [.. Samples.Keys];

    private static readonly Dictionary<string, (byte Type, Action<FrameOutput> Write, Action<byte[]> ReadBack)> Samples
        = new()
        {
            ["Init"] = (InitFrame.Type, o => new InitFrame("shop", 64, 8, 1024, 256, 512, 128).Write(o),
                p => Assert.Equal(new InitFrame("shop", 64, 8, 1024, 256, 512, 128), InitFrame.Read(p))),
            ["Load"] = (LoadFrame.Type, o => new LoadFrame(7, new byte[] { 1, 2, 3 }).Write(o), p =>
            {
                var load = LoadFrame.Read(p);
                Assert.Equal(7, load.Key);
                Assert.Equal([1, 2, 3], load.Assembly.ToArray());
            }
            ),
            ["Unload"] = (UnloadFrame.Type, o => new UnloadFrame(9).Write(o), p => Assert.Equal(
                new UnloadFrame(9),
                UnloadFrame.Read(p))),
            ["Run"] = (RunFrame.Type, o => SampleRun.Write(o), p =>
            {
                var run = RunFrame.Read(p);
                Assert.Equal(SampleRun with { Body = default }, run with { Body = default });
                Assert.Equal("{\"n\":1}", System.Text.Encoding.UTF8.GetString(run.Body.Span));
            }
            ),
            ["EmitReply"] = (
                EmitReplyFrame.Type,
                o => EmitReplyFrame.Refused(3, 2, RunnerProtocol.EmitQueueFull, "full").Write(o),
            p => Assert.Equal(
                EmitReplyFrame.Refused(3, 2, RunnerProtocol.EmitQueueFull, "full"),
                EmitReplyFrame.Read(p))),
            ["EmitReply (emitted)"] = (EmitReplyFrame.Type, o => EmitReplyFrame.Emitted(3, 2, Id).Write(o),
            p => Assert.Equal(EmitReplyFrame.Emitted(3, 2, Id), EmitReplyFrame.Read(p))),
            ["Ready"] = (ReadyFrame.Type, o => new ReadyFrame(4242).Write(o), p => Assert.Equal(
                new ReadyFrame(4242),
                ReadyFrame.Read(p))),
            ["Emit"] = (EmitFrame.Type, o => new EmitFrame(
                5,
                1,
                "next",
                "[1]"u8.ToArray(),
                new EmitOptions(TimeSpan.FromSeconds(3), null, "k")).Write(o), p =>
            {
                var emit = EmitFrame.Read(p);
                Assert.Equal(
                    (5L, 1, "next", new EmitOptions(TimeSpan.FromSeconds(3), null, "k")),
                    (emit.RunId, emit.Number, emit.Worker, emit.Options));
                Assert.Equal("[1]", System.Text.Encoding.UTF8.GetString(emit.Json.Span));
            }
            ),
            ["Emit (debounced)"] = (EmitFrame.Type, o => new EmitFrame(5, 2, "index", "1"u8.ToArray(),
                new EmitOptions(null, null, Debounce: new Debounce("doc", TimeSpan.FromSeconds(2), false,
                    TimeSpan.FromSeconds(9)))).Write(o), p => Assert.Equal(
                new EmitOptions(null, null, Debounce: new Debounce("doc", TimeSpan.FromSeconds(2), false,
                    TimeSpan.FromSeconds(9))),
                EmitFrame.Read(p).Options)),
            ["Emit (high, low)"] = (EmitFrame.Type, o => new EmitFrame(5, 3, "index", "1"u8.ToArray(),
                new EmitOptions(null, null, Priority: Priority.High)).Write(o), p => Assert.Equal(
                new EmitOptions(null, null, Priority: Priority.High), EmitFrame.Read(p).Options)),
            ["Done"] = (DoneFrame.Type, o => new DoneFrame(
                6,
                RunnerOutcome.Failed,
                TimeSpan.FromMilliseconds(12),
                null,
                "Boom",
                "it broke",
                ["a", "b"]).Write(o), p =>
            {
                var done = DoneFrame.Read(p);
                Assert.Equal(
                    (6L, RunnerOutcome.Failed, TimeSpan.FromMilliseconds(12), "Boom", "it broke"),
                    (done.RunId, done.Outcome, done.Duration, done.ErrorType, done.ErrorMessage));
                Assert.Null(done.Result);
                Assert.Equal(["a", "b"], done.Logs);
            }
            ),
            ["Done (result)"] = (DoneFrame.Type, o => new DoneFrame(
                6,
                RunnerOutcome.Completed,
                TimeSpan.Zero,
                "42"u8.ToArray(),
                null,
                null,
                []).Write(o),
            p => Assert.Equal("42", System.Text.Encoding.UTF8.GetString(DoneFrame.Read(p).Result!.Value.Span))),
            ["HttpRequest"] = (HttpRequestFrame.Type, o => new HttpRequestFrame(
                8,
                1,
                "POST",
                "https://example.com/x?y=1",
                Headers,
                "body"u8.ToArray()).Write(o), p =>
            {
                var request = HttpRequestFrame.Read(p);
                Assert.Equal(
                    (8L, 1, "POST", "https://example.com/x?y=1"),
                    (request.RunId, request.RequestId, request.Method, request.Uri));
                Assert.Equal(Headers, request.Headers);
                Assert.Equal("body", System.Text.Encoding.UTF8.GetString(request.Body!.Value.Span));
            }
            ),
            ["HttpRequest (no body)"] = (HttpRequestFrame
            .Type, o => new HttpRequestFrame(8, 2, "GET", "http://h/", [], null).Write(o),
            p => Assert.Null(HttpRequestFrame.Read(p).Body)),
            ["HttpCancel"] = (HttpCancelFrame.Type, o => new HttpCancelFrame(3).Write(o), p => Assert.Equal(
                new HttpCancelFrame(3),
                HttpCancelFrame.Read(p))),
            ["HttpResponse"] = (HttpResponseFrame.Type, o => new HttpResponseFrame(
                3,
                201,
                "Created",
                HttpVersion.Version11,
                "https://example.com/z",
                Headers).Write(o), p =>
            {
                var response = HttpResponseFrame.Read(p);
                Assert.Equal(
                    (3, 201, "Created", HttpVersion.Version11, "https://example.com/z"),
                    (response.RequestId, response.Status, response.Reason, response.Version, response.RequestUri));
                Assert.Equal(Headers, response.Headers);
            }
            ),
            ["HttpBody"] = (HttpBodyFrame.Type, o => new HttpBodyFrame(3, new byte[] {
            9,
            8 }).Write(o), p => Assert.Equal([9, 8], HttpBodyFrame.Read(p).Chunk.ToArray())),
            ["Step (load)"] = (StepFrame.Type, o => StepFrame.Load(4, 1).Write(o), p =>
            {
                var step = StepFrame.Read(p);
                Assert.Equal((4L, 1, false, null, null), (step.RunId, step.Number, step.Save, step.Key, step.Signal));
            }
            ),
            ["Step (save)"] = (StepFrame.Type, o => new StepFrame(4, 2, true, "wait:go#1", "{}"u8.ToArray(), "go")
                .Write(o), p =>
            {
                var step = StepFrame.Read(p);
                Assert.Equal((4L, 2, true, "wait:go#1", "go"), (step.RunId, step.Number, step.Save, step.Key,
                    step.Signal));
                Assert.Equal("{}", System.Text.Encoding.UTF8.GetString(step.Json.Span));
            }
            ),
            ["StepReply (state)"] = (StepReplyFrame.Type, o => new StepReplyFrame(4, 1, new StepState(
                new Dictionary<string, byte[]> { ["step:a#1"] = "1"u8.ToArray() },
                new Dictionary<string, byte[]> { ["go"] = "true"u8.ToArray() }), null, null).Write(o), p =>
            {
                var reply = StepReplyFrame.Read(p);
                Assert.Equal("1", System.Text.Encoding.UTF8.GetString(reply.State!.Steps["step:a#1"]));
                Assert.Equal("true", System.Text.Encoding.UTF8.GetString(reply.State.Signals["go"]));
                Assert.Null(reply.Won);
            }
            ),
            ["StepReply (won)"] = (StepReplyFrame.Type,
                o => new StepReplyFrame(4, 2, null, "7"u8.ToArray(), null).Write(o),
                p => Assert.Equal("7", System.Text.Encoding.UTF8.GetString(StepReplyFrame.Read(p).Won!.Value.Span))),
            ["StepReply (refused)"] = (StepReplyFrame.Type,
                o => new StepReplyFrame(4, 3, null, null, "over the limit").Write(o),
                p => Assert.Equal("over the limit", StepReplyFrame.Read(p).Refusal)),
            ["Cancel"] = (CancelFrame.Type, o => new CancelFrame(12).Write(o),
                p => Assert.Equal(new CancelFrame(12), CancelFrame.Read(p))),
            ["Done (suspended)"] = (DoneFrame.Type, o => new DoneFrame(6, RunnerOutcome.Suspended, TimeSpan.Zero, null,
                null, null, [], new Suspension(SuspensionKind.Wait, "wait:go#1", When, "go"),
                [new StepTrace("charge", true, TimeSpan.FromMilliseconds(3))]).Write(o), p =>
            {
                var done = DoneFrame.Read(p);
                Assert.Equal(new Suspension(SuspensionKind.Wait, "wait:go#1", When, "go"), done.Suspension);
                Assert.Equal([new StepTrace("charge", true, TimeSpan.FromMilliseconds(3))], done.Steps);
            }
            ),
            ["HttpEnd"] = (HttpEndFrame
            .Type, o => new HttpEndFrame(3, HttpFailure.Request, "refused", HttpRequestError.ConnectionError).Write(o),
            p => Assert.Equal(
                new HttpEndFrame(3, HttpFailure.Request, "refused", HttpRequestError.ConnectionError),
                HttpEndFrame.Read(p))),
        };

    private static readonly Guid Id = Guid.Parse("0193a7c2-0000-7000-8000-000000000001");

    private static readonly DateTimeOffset When = new(2026, 12, 8, 9, 0, 0, TimeSpan.Zero);

    private static readonly RunFrame SampleRun = new(
        11,
        2,
        Id,
        "resize",
        new DateTimeOffset(2026, 12, 6, 16, 0, 0, TimeSpan.Zero),
        2,
        1,
        TimeSpan.FromSeconds(30),
        "{\"n\":1}"u8.ToArray(),
        Resume: 3);

    [Theory]
    [MemberData(nameof(Frames))]
    public async Task A_frame_reads_back_as_written(string name)
    {
        var (type, write, readBack) = Samples[name];
        var (readType, payload) = await WriteAsync(write);
        Assert.Equal(type, readType);
        readBack(payload);
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public async Task A_frame_cut_short_anywhere_or_with_bytes_left_over_is_refused_naming_the_frame(string name)
    {
        var (_, write, readBack) = Samples[name];
        var (_, payload) = await WriteAsync(write);
        for (var length = 0; length < payload.Length; length++)
        {
            var cut = payload[..length];
            var refused = Assert.Throws<InvalidDataException>(() => readBack(cut));
            Assert.Contains(" frame with ", refused.Message);
        }
        var longer = Assert.Throws<InvalidDataException>(() => readBack([.. payload, 0]));
        Assert.Contains("after its last field", longer.Message);
    }

    [Fact]
    public async Task A_done_frame_with_an_outcome_or_a_log_count_no_runner_writes_is_refused()
    {
        var (_, outcome) = await WriteAsync(o =>
        {
            using var frame = o.Begin(DoneFrame.Type);
            frame.Long(1);
            frame.Byte(77);
            frame.Long(0);
        });
        Assert.Contains("outcome 77", Assert.Throws<InvalidDataException>(() => DoneFrame.Read(outcome)).Message);

        var (_, logs) = await WriteAsync(o =>
        {
            using var frame = o.Begin(DoneFrame.Type);
            frame.Long(1);
            frame.Byte(0);
            frame.Long(0);
            frame.Bytes(default, isNull: true);
            frame.String(null);
            frame.String(null);
            frame.Int(int.MaxValue);
        });
        Assert.Contains("log lines", Assert.Throws<InvalidDataException>(() => DoneFrame.Read(logs)).Message);
    }

    [Theory]
    [InlineData(16 | 32)]
    [InlineData(64)]
    [InlineData(255)]
    public async Task An_emit_frame_both_high_and_low_or_with_a_flag_no_runner_writes_is_refused(int flags)
    {
        var (_, payload) = await WriteAsync(o =>
            new EmitFrame(1, 1, "w", "1"u8.ToArray(), new EmitOptions(null, null, Priority: Priority.High)).Write(o));
        // The flag byte follows the run id (8), the number (4), the worker (4 + 1) and the event (4 + 1).
        Assert.Equal(16, payload[22]);
        payload[22] = (byte)flags;
        Assert.Contains($"emit flags {flags}", Assert.Throws<InvalidDataException>(() => EmitFrame.Read(payload))
            .Message);
    }

    [Fact]
    public async Task A_runner_frame_larger_than_the_supervisor_allows_is_refused_before_it_is_read()
    {
        var written = new MemoryStream();
        var output = new FrameOutput(written);
        new HttpBodyFrame(1, new byte[2_000]).Write(output);
        await output.DisposeAsync();
        var input = new FrameInput(new MemoryStream(written.ToArray()), maxFrameBytes: 1_000);
        var refused = await Assert.ThrowsAsync<InvalidDataException>(
            async () => await input.ReadAsync(CancellationToken.None));
        Assert.Contains("over the 1000 a frame may hold", refused.Message);
    }

    private static async Task<(byte Type, byte[] Payload)> WriteAsync(Action<FrameOutput> write)
    {
        var written = new MemoryStream();
        var output = new FrameOutput(written);
        write(output);
        await output.DisposeAsync();
        var frame = (await new FrameInput(new MemoryStream(written.ToArray())).ReadAsync(CancellationToken.None))!
            .Value;
        return (frame.Type, frame.Payload.ToArray());
    }
}
