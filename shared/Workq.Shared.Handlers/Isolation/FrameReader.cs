using System.Buffers.Binary;
using System.Text;

namespace Workq.Shared.Handlers.Isolation;

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

    /// <summary>Reads <see cref="FrameOutput.Frame.Options"/>.</summary>
    public Messaging.EmitOptions Options()
    {
        var flags = Byte();
        var delay = Long();
        var runAt = Long();
        var orderingKey = String();
        var idempotencyKey = String();
        var step = String();
        if (flags > 63 || (flags & 48) == 48) throw Broken($"emit flags {flags}");
        if ((flags & 2) != 0 && runAt is < 0 or > 3_155_378_975_999_999_999) throw Broken($"a run-at of {runAt} ticks");
        Messaging.Debounce? debounce = null;
        if ((flags & 8) != 0)
        {
            var (key, period, trailing, max) = (Text("debounce key"), Long(), Bool(), Long());
            // The worker checks the debounce's bounds; a negative span is no debounce at all.
            if (period < 0 || max < 0) throw Broken($"a debounce of {period}/{max} ticks");
            debounce = new Messaging.Debounce(key, TimeSpan.FromTicks(period), trailing, TimeSpan.FromTicks(max));
        }
        return new Messaging.EmitOptions(
            (flags & 1) != 0 ? TimeSpan.FromTicks(delay) : null,
            (flags & 2) != 0 ? new DateTimeOffset(runAt, TimeSpan.Zero) : null,
            orderingKey,
            (flags & 4) != 0,
            idempotencyKey,
            step,
            debounce,
            (flags & 16) != 0 ? Messaging.Priority.High
                : (flags & 32) != 0 ? Messaging.Priority.Low
                : Messaging.Priority.Normal);
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
