using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Workq.Tests.Observability;

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
