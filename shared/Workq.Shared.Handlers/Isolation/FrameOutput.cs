using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

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
        /// An emit's options: a flag byte (1 delay, 2 run-at, 4 in the batch, 8 debounced, 16 high, 32 low), then the
        /// delay's ticks and the run-at's UTC ticks; then its ordering key, its idempotency key and its step; then,
        /// debounced, its key, its period's ticks, 1 for trailing (0 leading) and its cap's ticks.
        /// </summary>
        public readonly void Options(Messaging.EmitOptions options)
        {
            Byte((byte)((options.Delay is null ? 0 : 1) | (options.RunAt is null ? 0 : 2) | (options.InBatch ? 4 : 0)
                | (options.Debounce is null ? 0 : 8)
                | (options.Priority switch { Messaging.Priority.High => 16, Messaging.Priority.Low => 32, _ => 0 })));
            Long(options.Delay?.Ticks ?? 0);
            Long(options.RunAt?.UtcTicks ?? 0);
            String(options.OrderingKey);
            String(options.IdempotencyKey);
            String(options.Step);
            if (options.Debounce is not { } debounce) return;
            String(debounce.Key ?? "");
            Long(debounce.Period.Ticks);
            Bool(debounce.Trailing);
            Long(debounce.Max.Ticks);
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
