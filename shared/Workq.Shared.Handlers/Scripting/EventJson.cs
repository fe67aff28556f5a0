using System.Buffers;
using System.Text.Json;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// A handler's emitted value as JSON, held to WORKQ_MAX_EVENT_BYTES as the emit API holds a request: refused with an
/// <see cref="ArgumentException"/> naming the limit as soon as its JSON passes it, never built whole first (a value of
/// tens of megabytes would otherwise be copied, and copied again, before being refused).
/// </summary>
public static class EventJson
{
    public static byte[] Serialize(object? value, JsonSerializerOptions options, int maxBytes)
    {
        var buffer = new CappedBuffer(maxBytes);
        using (var writer = new Utf8JsonWriter(buffer))
            JsonSerializer.Serialize(writer, value, options);
        return buffer.WrittenSpan.ToArray();
    }

    public static ArgumentException TooLarge(int maxBytes, long? bytes = null) => new(
        $"Emit refused: the event is {(bytes is { } n ? $"{n} bytes" : "more than that")} of JSON, over the limit of " +
            $"{maxBytes} bytes (WORKQ_MAX_EVENT_BYTES).",
        "value");

    /// <summary>
    /// Grows to what the writer asks for, up to the limit. The writer asks before it writes, and a string of n
    /// characters takes at least n bytes while the writer asks for up to three a character: a request that could not
    /// fit even so is refused at once.
    /// </summary>
    private sealed class CappedBuffer(int maxBytes) : IBufferWriter<byte>
    {
        private byte[] buffer = new byte[Math.Min(maxBytes + 1, 256)];
        private int written;

        public ReadOnlySpan<byte> WrittenSpan => buffer.AsSpan(0, written);

        public void Advance(int count)
        {
            written += count;
            if (written > maxBytes) throw TooLarge(maxBytes);
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(written);

        public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(written);

        private byte[] Reserve(int sizeHint)
        {
            sizeHint = Math.Max(sizeHint, 1);
            if ((long)written + sizeHint / 3 > maxBytes) throw TooLarge(maxBytes);
            if (buffer.Length - written >= sizeHint) return buffer;
            Array.Resize(
                ref buffer,
                (int)Math.Min(Math.Max((long)written + sizeHint, buffer.Length * 2L), Array.MaxLength));
            return buffer;
        }
    }
}
