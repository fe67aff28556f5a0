using System.Security.Cryptography;
using System.Text;

namespace Workq.Shared.Messaging;

/// <summary>
/// Event ids made from another id and a name, the same every time: a batch's callbacks, a handler's emits (the n-th of
/// a run, API.md "Exactly-once fan-out") and the events of its batch. A second publish or store of such an id is the
/// first one's event, not a new one. Version 8 UUIDs (RFC 9562: custom), from
/// SHA-256, so they never collide with the version 7 ids of emits.
/// </summary>
public static class DerivedIds
{
    public static Guid Callback(Guid batchId, string name) => Derive(batchId, name);

    /// <summary>The <paramref name="number"/>-th emit (or batch) of a run of the event, from 1.</summary>
    public static Guid Emit(Guid eventId, int number) =>
        Derive(eventId, "emit:" + number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// The <paramref name="number"/>-th emit (or batch) made within the durable step <paramref name="step"/> (its key)
    /// of the event, from 1.
    /// </summary>
    public static Guid StepEmit(Guid eventId, string step, int number) =>
        Derive(eventId, step + "/emit:" + number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The event at <paramref name="index"/> of a handler's batch, from 0.</summary>
    public static Guid Member(Guid batchId, int index) =>
        Derive(batchId, "member:" + index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Guid Derive(Guid from, string name)
    {
        Span<byte> input = stackalloc byte[16 + Encoding.UTF8.GetMaxByteCount(name.Length)];
        from.TryWriteBytes(input, bigEndian: true, out _);
        var length = 16 + Encoding.UTF8.GetBytes(name, input[16..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input[..length], hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
