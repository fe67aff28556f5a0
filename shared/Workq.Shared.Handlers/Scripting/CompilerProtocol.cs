using System.Buffers.Binary;
using System.Text.Json;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// Frames between control and its compiler processes (stdin and stdout): a 4-byte little-endian length,
/// then that many bytes of UTF-8 JSON.
/// </summary>
public static class CompilerProtocol
{
    /// <summary>
    /// Far above any request (code is at most a few hundred KB) or reply: a larger length means a corrupt stream.
    /// </summary>
    public const int MaxFrameBytes = 64 * 1024 * 1024;

    public static async Task WriteAsync<T>(Stream stream, T message, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(message, JsonDefaults.Web);
        var header = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, json.Length);
        await stream.WriteAsync(header, cancellationToken);
        await stream.WriteAsync(json, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>The next message, or null when the stream ended cleanly before one began.</summary>
    public static async Task<T?> ReadAsync<T>(Stream stream, CancellationToken cancellationToken) where T : class
    {
        var header = new byte[4];
        var read = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken);
        if (read == 0) return null;
        if (read < header.Length) throw new EndOfStreamException("the stream ended inside a frame header");
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length is < 0 or > MaxFrameBytes) throw new InvalidDataException(
            $"a frame of {length} bytes is not a compiler message");
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken);
        return JsonSerializer.Deserialize<T>(body, JsonDefaults.Web)
            ?? throw new InvalidDataException("a compiler message was JSON null");
    }
}
