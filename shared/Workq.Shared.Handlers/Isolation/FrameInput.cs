using System.Buffers.Binary;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Reads the frames <see cref="FrameOutput"/> writes. One reader per stream; a frame's payload is valid until the next
/// read.
/// </summary>
public sealed class FrameInput(Stream stream, int maxFrameBytes = FrameInput.MaxFrameBytes)
{
    /// <summary>
    /// Far above any frame the supervisor sends (an event is at most a few MB, an assembly a few hundred KB).
    /// </summary>
    public const int MaxFrameBytes = 64 * 1024 * 1024;

    private const int InitialBuffer = 64 * 1024;
    private const int LargeBuffer = 1024 * 1024;

    private byte[] buffer = new byte[InitialBuffer];
    private int start;
    private int end;

    /// <summary>The next frame, or null when the stream ended cleanly between frames.</summary>
    public async ValueTask<(byte Type, ReadOnlyMemory<byte> Payload)?> ReadAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(4, cancellationToken)) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(start, 4));
        CheckLength(length);
        if (!await FillAsync(4 + length, cancellationToken)) throw new EndOfStreamException(
            "the stream ended inside a frame");
        var type = buffer[start + 4];
        var payload = buffer.AsMemory(start + 5, length - 1);
        start += 4 + length;
        return (type, payload);
    }

    /// <summary>
    /// The blocking form, for a reader on a thread of its own that must keep reading when the thread pool does not.
    /// </summary>
    public (byte Type, ReadOnlyMemory<byte> Payload)? Read()
    {
        if (!Fill(4)) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(start, 4));
        CheckLength(length);
        if (!Fill(4 + length)) throw new EndOfStreamException("the stream ended inside a frame");
        var type = buffer[start + 4];
        var payload = buffer.AsMemory(start + 5, length - 1);
        start += 4 + length;
        return (type, payload);
    }

    private void CheckLength(int length)
    {
        if (length < 1) throw new InvalidDataException($"a frame length of {length}");
        if (length > maxFrameBytes) throw new InvalidDataException(
            $"a frame of {length} bytes, over the {maxFrameBytes} a frame may hold");
    }

    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        Prepare(count);
        while (end - start < count)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
            if (read == 0) return Ended(count);
            end += read;
        }
        return true;
    }

    private bool Fill(int count)
    {
        Prepare(count);
        while (end - start < count)
        {
            var read = stream.Read(buffer.AsSpan(end));
            if (read == 0) return Ended(count);
            end += read;
        }
        return true;
    }

    // Moves what is left to the front (the previous payload is given up) and grows the buffer to hold a whole frame;
    // after a large frame (a relayed request body) it goes back to its usual size, so a runner's one big frame is not
    // kept for good.
    private void Prepare(int count)
    {
        if (end - start >= count) return;
        if (buffer.Length > LargeBuffer && count <= InitialBuffer && end - start <= InitialBuffer)
        {
            var usual = new byte[InitialBuffer];
            buffer.AsSpan(start, end - start).CopyTo(usual);
            buffer = usual;
        }
        else if (buffer.Length < count)
        {
            var larger = new byte[Math.Max(count, buffer.Length * 2)];
            buffer.AsSpan(start, end - start).CopyTo(larger);
            buffer = larger;
        }
        else if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
        }
        end -= start;
        start = 0;
    }

    private bool Ended(int count)
    {
        if (end - start == 0) return false;
        throw new EndOfStreamException($"the stream ended {end - start} bytes into a frame of at least {count}");
    }
}
