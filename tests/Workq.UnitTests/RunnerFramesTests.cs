using System.Buffers.Binary;
using Workq.Shared.Handlers.Isolation;

namespace Workq.UnitTests;

/// <summary>
/// The frames between the worker service and its runners: every field comes back as written, whatever the stream's
/// chunking.
/// </summary>
public sealed class RunnerFramesTests
{
    [Fact]
    public async Task Fields_come_back_in_order_across_many_frames_written_concurrently()
    {
        var written = new MemoryStream();
        var output = new FrameOutput(written);
        var body = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(() =>
        {
            for (var i = 0; i < 250; i++)
            {
                using var frame = output.Begin(RunFrame.Type);
                frame.Long(writer * 1_000L + i);
                frame.Guid(new Guid(writer, 0, 0, new byte[8]));
                frame.String(i % 3 == 0 ? null : $"worker-{i}-é");
                frame.Bool(i % 2 == 0);
                frame.Bytes(body.AsSpan(0, i * 397 % body.Length));
            }
        })));
        await output.DisposeAsync();

        var input = new FrameInput(new MemoryStream(written.ToArray()));
        var seen = new Dictionary<int, int>();
        while (await input.ReadAsync(CancellationToken.None) is { } frame)
        {
            Assert.Equal(RunFrame.Type, frame.Type);
            var reader = new FrameReader(frame.Payload.Span, "test");
            var id = reader.Long();
            var (writer, i) = ((int)(id / 1_000), (int)(id % 1_000));
            // Each writer's frames stay in its own order, whole.
            Assert.Equal(seen.GetValueOrDefault(writer), i);
            seen[writer] = i + 1;
            Assert.Equal(new Guid(writer, 0, 0, new byte[8]), reader.Guid());
            Assert.Equal(i % 3 == 0 ? null : $"worker-{i}-é", reader.String());
            Assert.Equal(i % 2 == 0, reader.Bool());
            Assert.True(reader.Bytes().SequenceEqual(body.AsSpan(0, i * 397 % body.Length)));
        }
        Assert.Equal(8, seen.Count);
        Assert.All(seen.Values, count => Assert.Equal(250, count));
    }

    [Fact]
    public void The_blocking_reader_reads_what_arrives_a_byte_at_a_time()
    {
        var frames = new MemoryStream();
        foreach (var text in new[] {
            "a",
            new string('x', 70_000),
            "" }) Write(frames, 7, System.Text.Encoding.UTF8.GetBytes(text));
        var input = new FrameInput(new Trickle(frames.ToArray()));

        Assert.Equal(1, input.Read()!.Value.Payload.Length);
        Assert.Equal(70_000, input.Read()!.Value.Payload.Length);
        Assert.Equal(0, input.Read()!.Value.Payload.Length);
        Assert.Null(input.Read());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(FrameInput.MaxFrameBytes + 1)]
    public async Task A_length_that_cannot_be_a_frame_is_refused_as_a_corrupt_stream(int length)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, length);
        var input = new FrameInput(new MemoryStream(bytes));
        await Assert.ThrowsAsync<InvalidDataException>(async () => await input.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_frame_is_an_error_and_one_that_ends_between_frames_is_not()
    {
        var frames = new MemoryStream();
        Write(frames, 1, [1, 2, 3]);
        var whole = frames.ToArray();
        Assert.NotNull(await new FrameInput(new MemoryStream(whole)).ReadAsync(CancellationToken.None));
        await Assert.ThrowsAsync<EndOfStreamException>(
            async () => await new FrameInput(new MemoryStream(whole[..^1])).ReadAsync(CancellationToken.None));
        Assert.Null(await new FrameInput(new MemoryStream([])).ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Writing_after_the_other_side_went_away_throws_IOException_instead_of_growing_a_buffer()
    {
        var closed = new MemoryStream();
        closed.Dispose();
        var output = new FrameOutput(closed);
        using (var first = output.Begin(ReadyFrame.Type)) first.Int(1);
        await Assert.ThrowsAnyAsync<Exception>(() => output.Completion);
        Assert.Throws<IOException>(() =>
        {
            using var frame = output.Begin(ReadyFrame.Type);
        });
    }

    private static void Write(Stream stream, byte type, byte[] payload)
    {
        var header = new byte[5];
        BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length + 1);
        header[4] = type;
        stream.Write(header);
        stream.Write(payload);
    }

    /// <summary>A stream that hands out one byte per read, as a pipe may.</summary>
    private sealed class Trickle(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(1, buffer.Length)]);
    }
}
