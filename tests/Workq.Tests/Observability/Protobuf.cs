using System.Buffers.Binary;

namespace Workq.Tests.Observability;

/// <summary>Just enough of the protobuf wire format to walk OTLP messages by field number.</summary>
public static class Protobuf
{
    private static IEnumerable<(int Field, int Wire, ulong Varint, ReadOnlyMemory<byte> Bytes)> Fields(
        ReadOnlyMemory<byte> message)
    {
        var offset = 0;
        while (offset < message.Length)
        {
            var tag = ReadVarint(message.Span, ref offset);
            var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wire)
            {
                case 0: yield return (field, wire, ReadVarint(message.Span, ref offset), default); break;
                case 1: yield return (field, wire, 0, message.Slice(offset, 8)); offset += 8; break;
                case 2:
                    var length = (int)ReadVarint(message.Span, ref offset);
                    yield return (field, wire, 0, message.Slice(offset, length));
                    offset += length;
                    break;
                case 5: yield return (field, wire, 0, message.Slice(offset, 4)); offset += 4; break;
                default: throw new InvalidDataException($"Unsupported wire type {wire}");
            }
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int offset)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[offset++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
    }

    public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Field == field && f.Wire == 2).Select(f => f.Bytes).ToList();

    public static string? String(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Field == field && f.Wire == 2).Select(f => Encoding.UTF8.GetString(f.Bytes.Span))
            .FirstOrDefault();

    public static string Hex(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Field == field && f.Wire == 2).Select(f => Convert.ToHexStringLower(f.Bytes.Span))
            .FirstOrDefault() ?? "";

    public static ulong Varint(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Field == field && f.Wire == 0).Select(f => f.Varint).FirstOrDefault();

    public static ulong Fixed64(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Field == field && f.Wire == 1)
            .Select(f => BinaryPrimitives.ReadUInt64LittleEndian(f.Bytes.Span))
            .FirstOrDefault();

    /// <summary>A NumberDataPoint's value: as_double (4) or as_int (6).</summary>
    public static double Number(ReadOnlyMemory<byte> point) =>
        Fields(point).Where(f => f.Wire == 1 && f.Field is 4 or 6)
            .Select(f => f.Field == 4
                ? BinaryPrimitives.ReadDoubleLittleEndian(f.Bytes.Span)
                : BinaryPrimitives.ReadInt64LittleEndian(f.Bytes.Span))
            .FirstOrDefault();
}
