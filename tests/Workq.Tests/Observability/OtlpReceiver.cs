using System.Buffers.Binary;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Workq.Tests.Observability;

public sealed record OtlpSpan(
    string Service,
    string Scope,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<string> LinkedSpanIds)
{
    public const int Server = 2, Producer = 4, Consumer = 5;
}

public sealed record OtlpPoint(
    string Service,
    string Metric,
    IReadOnlyDictionary<string, string> Attributes,
    double Value);

/// <summary>
/// An OTLP/HTTP receiver of the test's own (the 1.20.1 exporter speaks protobuf over HTTP, not JSON):
/// it keeps the spans and metric points the services export, decoded with a minimal protobuf reader.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private WebApplication app = null!;
    public ConcurrentQueue<OtlpSpan> Spans { get; } = new();
    public ConcurrentQueue<OtlpPoint> Points { get; } = new();
    public Uri Url { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        (receiver.app, receiver.Url) = await LocalServer.StartAsync(app =>
        {
            app.MapPost(
                "/v1/traces",
                async (HttpRequest request) => { receiver.ReadTraces(await BodyAsync(request)); return Results.Ok(); });
            app.MapPost(
                "/v1/metrics",
                async (HttpRequest request) =>
                {
                    receiver.ReadMetrics(await BodyAsync(request)); return Results
                    .Ok();
                });
            app.MapPost("/v1/logs", () => Results.Ok());
        });
        return receiver;
    }

    private static async Task<byte[]> BodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private void ReadTraces(byte[] body)
    {
        foreach (var resourceSpans in Protobuf.Messages(body, 1))
        {
            var service = ServiceName(resourceSpans);
            foreach (var scopeSpans in Protobuf.Messages(resourceSpans, 2))
            {
                var scope = Protobuf.Messages(scopeSpans, 1).Select(s => Protobuf.String(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Protobuf.Messages(scopeSpans, 2))
                {
                    Spans.Enqueue(new OtlpSpan(
                        service,
                        scope,
                        Protobuf.Hex(span, 1),
                        Protobuf.Hex(span, 2),
                        Protobuf.Hex(span, 4),
                        Protobuf.String(span, 5) ?? "",
                        (int)Protobuf.Varint(span, 6),
                        Attributes(span, 9),
                        Protobuf.Messages(span, 13)
                            .Select(link => Protobuf.Hex(link, 2))
                            .ToList()));
                }
            }
        }
    }

    private void ReadMetrics(byte[] body)
    {
        foreach (var resourceMetrics in Protobuf.Messages(body, 1))
        {
            var service = ServiceName(resourceMetrics);
            foreach (var metric in Protobuf.Messages(resourceMetrics, 2)
                .SelectMany(scope => Protobuf.Messages(scope, 2)))
            {
                var name = Protobuf.String(metric, 1) ?? "";
                // gauge (5) and sum (7) hold NumberDataPoints; histogram (9) HistogramDataPoints, whose count is field
                // 4.
                foreach (var point in Protobuf.Messages(metric, 5).Concat(Protobuf.Messages(metric, 7))
                    .SelectMany(data => Protobuf.Messages(data, 1)))
                    Points.Enqueue(new OtlpPoint(service, name, Attributes(point, 7), Protobuf.Number(point)));
                foreach (var point in Protobuf.Messages(metric, 9).SelectMany(data => Protobuf.Messages(data, 1)))
                    Points.Enqueue(new OtlpPoint(service, name, Attributes(point, 9), Protobuf.Fixed64(point, 4)));
            }
        }
    }

    private static string ServiceName(ReadOnlyMemory<byte> resourceHolder) =>
        Protobuf.Messages(resourceHolder, 1)
            .Select(resource => Attributes(resource, 1).GetValueOrDefault("service.name"))
            .FirstOrDefault() ?? "";

    private static Dictionary<string, string> Attributes(ReadOnlyMemory<byte> message, int field)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var keyValue in Protobuf.Messages(message, field))
        {
            var value = Protobuf.Messages(keyValue, 2).FirstOrDefault();
            // AnyValue: string 1, bool 2, int 3 (double 4 is not needed here).
            attributes[Protobuf.String(keyValue, 1) ?? ""] = Protobuf.String(value, 1)
                ?? Protobuf.Varint(value, 3).ToString();
        }
        return attributes;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}

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
