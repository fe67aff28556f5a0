using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// Length-prefixed binary frames between the worker service and its runner processes: a 4-byte little-endian
/// length, a type byte, then the fields in order. The thread that ends a frame while nothing is being written
/// writes it itself (no hand-off to another thread, which costs a wake-up per event at low load); frames ended
/// while a write is in progress go out together in its next write, so a busy runner costs a system call per batch.
/// <paramref name="synchronous"/> writes with <see cref="Stream.Write(ReadOnlySpan{byte})"/> (a runner's stdout,
/// whose asynchronous writes would hop to the thread pool); otherwise writes are asynchronous and complete inline
/// while the pipe has room.
/// </summary>
public sealed class FrameOutput(Stream stream, bool synchronous = false) : IAsyncDisposable
{
    private readonly Lock gate = new();
    private readonly TaskCompletionSource failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ArrayBufferWriter<byte> pending = new(64 * 1024);
    private ArrayBufferWriter<byte> writing = new(64 * 1024);
    private bool busy;
    private bool completed;
    // Set only while someone waits for room (WaitForRoomAsync): the writes of a busy runner allocate nothing for it.
    private TaskCompletionSource? room;

    /// <summary>Faults when the stream broke (the other side died); completes once disposed and drained.</summary>
    public Task Completion => Task.WhenAny(failed.Task, drained.Task).Unwrap();

    /// <summary>
    /// Starts a frame; its fields are written under a lock that <see cref="Frame.Dispose"/> releases.
    /// </summary>
    public Frame Begin(byte type) => new(this, type);

    /// <summary>
    /// Waits until fewer than <paramref name="limit"/> bytes wait to be written, so that a writer of many frames (a
    /// relayed response body) cannot grow the buffer without bound when the other side stops reading. Returns at once
    /// once closed.
    /// </summary>
    public async ValueTask WaitForRoomAsync(int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task written;
            lock (gate)
            {
                if (completed || pending.WrittenCount < limit) return;
                written = (room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await written.WaitAsync(cancellationToken);
        }
    }

    // Called by the thread that ended a frame and found no write in progress: it writes until nothing is pending.
    private void Pump()
    {
        if (synchronous) PumpSynchronously();
        else _ = PumpAsync();
    }

    private void PumpSynchronously()
    {
        try
        {
            while (TakeBatch() is { } batch)
            {
                stream.Write(batch.WrittenSpan);
                stream.Flush();
                batch.ResetWrittenCount();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Fail(e);
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (TakeBatch() is { } batch)
            {
                await stream.WriteAsync(batch.WrittenMemory);
                await stream.FlushAsync();
                batch.ResetWrittenCount();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Fail(e);
        }
    }

    // The frames ended so far, or null (and no longer busy) when there are none. Either way what was pending has been
    // written or taken, so whoever waits for room may look again.
    private ArrayBufferWriter<byte>? TakeBatch()
    {
        TaskCompletionSource? waiting;
        ArrayBufferWriter<byte>? batch;
        lock (gate)
        {
            (waiting, room) = (room, null);
            if (pending.WrittenCount == 0)
            {
                busy = false;
                if (completed) drained.TrySetResult();
                batch = null;
            }
            else
            {
                (pending, writing) = (writing, pending);
                batch = writing;
            }
        }
        waiting?.TrySetResult();
        return batch;
    }

    private void Fail(Exception e)
    {
        TaskCompletionSource? waiting;
        lock (gate)
        {
            completed = true;
            (waiting, room) = (room, null);
        }
        waiting?.TrySetResult();
        failed.TrySetException(e);
        drained.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        lock (gate)
        {
            if (completed) return;
            completed = true;
            if (!busy) drained.TrySetResult();
        }
        await Task.WhenAny(drained.Task, failed.Task);
    }

    public ref struct Frame
    {
        private readonly FrameOutput output;
        private readonly ArrayBufferWriter<byte> buffer;
        private readonly int start;
        private Lock.Scope scope;

        internal Frame(FrameOutput output, byte type)
        {
            this.output = output;
            scope = output.gate.EnterScope();
            if (output.completed)
            {
                scope.Dispose();
                throw new IOException("the runner channel is closed");
            }
            buffer = output.pending;
            start = buffer.WrittenCount;
            buffer.GetSpan(5);
            buffer.Advance(4);
            Byte(type);
        }

        public readonly void Byte(byte value)
        {
            buffer.GetSpan(1)[0] = value;
            buffer.Advance(1);
        }

        public readonly void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

        public readonly void Int(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(4), value);
            buffer.Advance(4);
        }

        public readonly void Long(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(buffer.GetSpan(8), value);
            buffer.Advance(8);
        }

        public readonly void Guid(Guid value)
        {
            value.TryWriteBytes(buffer.GetSpan(16));
            buffer.Advance(16);
        }

        /// <summary>A length (-1 for null) and the bytes.</summary>
        public readonly void Bytes(ReadOnlySpan<byte> value, bool isNull = false)
        {
            if (isNull)
            {
                Int(-1);
                return;
            }
            Int(value.Length);
            value.CopyTo(buffer.GetSpan(value.Length));
            buffer.Advance(value.Length);
        }

        public readonly void String(string? value)
        {
            if (value is null)
            {
                Int(-1);
                return;
            }
            var length = Encoding.UTF8.GetByteCount(value);
            Int(length);
            Encoding.UTF8.GetBytes(value, buffer.GetSpan(length));
            buffer.Advance(length);
        }

        /// <summary>
        /// An emit's time: a flag byte (1 delay, 2 run-at), then the delay's ticks and the run-at's UTC ticks; then its
        /// ordering key.
        /// </summary>
        public readonly void When(Messaging.EmitWhen when)
        {
            Byte((byte)((when.Delay is null ? 0 : 1) | (when.RunAt is null ? 0 : 2)));
            Long(when.Delay?.Ticks ?? 0);
            Long(when.RunAt?.UtcTicks ?? 0);
            String(when.OrderingKey);
        }

        public void Dispose()
        {
            var header = MemoryMarshal.AsMemory(buffer.WrittenMemory).Span.Slice(start, 4);
            BinaryPrimitives.WriteInt32LittleEndian(header, buffer.WrittenCount - start - 4);
            var pump = !output.busy;
            output.busy = true;
            scope.Dispose();
            if (pump) output.Pump();
        }
    }
}

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

/// <summary>
/// Reads a frame's fields in the order <see cref="FrameOutput.Frame"/> wrote them. The other side may be hostile (a
/// runner whose handler escaped the guard): a payload shorter than its fields, or with bytes left over (<see
/// cref="End"/>), throws <see cref="InvalidDataException"/> naming the frame, never an index error.
/// </summary>
public ref struct FrameReader(ReadOnlySpan<byte> payload, string frame)
{
    private readonly ReadOnlySpan<byte> payload = payload;
    private readonly string frame = frame;
    private int position;

    public byte Byte() => Take(1)[0];

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var other => throw Broken($"a flag of {other}"),
    };

    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    /// <summary>A count or size that must lie within 0..<paramref name="max"/>.</summary>
    public int Count(int max, string what)
    {
        var value = Int();
        return value >= 0 && value <= max ? value : throw Broken($"{value} {what}, outside 0..{max}");
    }

    public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public Guid Guid() => new(Take(16));

    /// <summary>The bytes, or an empty span with <paramref name="isNull"/> set.</summary>
    public ReadOnlySpan<byte> Bytes(out bool isNull)
    {
        var length = Int();
        isNull = length == -1;
        if (isNull) return default;
        if (length < 0) throw Broken($"a length of {length}");
        return Take(length);
    }

    public ReadOnlySpan<byte> Bytes() => Bytes(out _);

    public string? String()
    {
        var bytes = Bytes(out var isNull);
        return isNull ? null : Encoding.UTF8.GetString(bytes);
    }

    /// <summary>A string the frame must have.</summary>
    public string Text(string what) => String() ?? throw Broken($"no {what}");

    /// <summary>Reads <see cref="FrameOutput.Frame.When"/>.</summary>
    public Messaging.EmitWhen When()
    {
        var flags = Byte();
        var delay = Long();
        var runAt = Long();
        var orderingKey = String();
        if (flags > 3) throw Broken($"time flags {flags}");
        if ((flags & 2) != 0 && runAt is < 0 or > 3_155_378_975_999_999_999) throw Broken($"a run-at of {runAt} ticks");
        return new Messaging.EmitWhen(
            (flags & 1) != 0 ? TimeSpan.FromTicks(delay) : null,
            (flags & 2) != 0 ? new DateTimeOffset(runAt, TimeSpan.Zero) : null,
            orderingKey);
    }

    /// <summary>Every field has been read: bytes left over mean the two sides do not agree on the frame.</summary>
    public readonly void End()
    {
        if (position != payload.Length) throw Broken($"{payload.Length - position} bytes after its last field");
    }

    public readonly InvalidDataException Broken(string what) => new($"a {frame} frame with {what}");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > payload.Length - position) throw Broken($"{payload.Length} bytes, too few for its fields");
        var taken = payload.Slice(position, count);
        position += count;
        return taken;
    }
}
