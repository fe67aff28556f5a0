using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Workq.Shared.Hosting;

/// <summary>
/// The connection's output. Until armed every call goes straight to the transport. Armed (the request was rejected,
/// nothing of its answer written yet), it keeps what Kestrel writes until the flush and, when that is exactly an
/// HTTP/1.1 head with Content-Length: 0 and no body, sends it with Content-Type: application/problem+json and the
/// problem body; anything else (HTTP/2's GOAWAY to a prior-knowledge client, say) goes out unchanged.
/// </summary>
public sealed class RejectionWriter(PipeWriter transport) : PipeWriter
{
    private static ReadOnlySpan<byte> EmptyLength => "\r\nContent-Length: 0"u8;

    private ArrayBufferWriter<byte>? held;
    private string? detail;

    public void Arm(string? why)
    {
        detail = why;
        held ??= new ArrayBufferWriter<byte>(256);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
        => held is null ? transport.GetMemory(sizeHint) : held.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0)
        => held is null ? transport.GetSpan(sizeHint) : held.GetSpan(sizeHint);

    public override void Advance(int bytes)
    {
        if (held is null) transport.Advance(bytes);
        else held.Advance(bytes);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (held is not null) Release();
        return transport.FlushAsync(cancellationToken);
    }

    public override void CancelPendingFlush() => transport.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        if (held is not null) Release();
        transport.Complete(exception);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        if (held is not null) Release();
        return transport.CompleteAsync(exception);
    }

    public override bool CanGetUnflushedBytes => transport.CanGetUnflushedBytes;

    public override long UnflushedBytes => transport.UnflushedBytes + (held?.WrittenCount ?? 0);

    private void Release()
    {
        var answer = held!.WrittenSpan;
        held = null;
        if (answer.IsEmpty) return;
        var headEnd = answer.IndexOf("\r\n\r\n"u8);
        var lengthAt = answer.IndexOf(EmptyLength);
        if (!answer.StartsWith("HTTP/1.1 "u8) || answer.Length < 12 || headEnd != answer.Length - 4 || lengthAt < 0
            || lengthAt >= headEnd
            || answer[lengthAt + EmptyLength.Length] != '\r'
            || !int.TryParse(answer.Slice(9, 3), out var status))
        {
            transport.Write(answer);
            return;
        }
        var body = ProblemBody(status, detail);
        transport.Write(answer[..lengthAt]);
        transport.Write(
            Encoding.ASCII.GetBytes($"\r\nContent-Type: application/problem+json\r\nContent-Length: {body.Length}"));
        transport.Write(answer[(lengthAt + EmptyLength.Length)..]);
        transport.Write(body);
    }

    private static byte[] ProblemBody(int status, string? detail)
    {
        var body = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("type", ProblemDefaults.TypeFor(status));
            json.WriteString(
                "title",
                ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason ? reason : "Bad request");
            json.WriteNumber("status", status);
            json.WriteString("detail", detail ?? "The server could not read the request.");
            json.WriteEndObject();
        }
        return body.WrittenSpan.ToArray();
    }
}
