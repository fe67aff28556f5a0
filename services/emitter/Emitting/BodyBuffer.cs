using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Workq.Emitter.Emitting;

/// <summary>A request body read whole into a pooled buffer, or refused once it passes the limit.</summary>
public sealed class BodyBuffer : IDisposable
{
    private byte[] buffer;

    private BodyBuffer(byte[] buffer, int length)
    {
        this.buffer = buffer;
        Length = length;
    }

    public int Length { get; }
    public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, Length);

    /// <returns>null when the body is longer than <paramref name="limit"/> bytes.</returns>
    public static async Task<BodyBuffer?> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit) return null;
        var rented = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == rented.Length)
                {
                    if (length > limit) break;
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(rented.Length * 2, limit + 1));
                    rented.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = larger;
                }
                var n = await request.Body.ReadAsync(rented.AsMemory(length), cancellationToken);
                if (n == 0) break;
                length += n;
            }
            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(rented);
                return null;
            }
            return new BodyBuffer(rented, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }
    }

    public void Dispose()
    {
        if (buffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = [];
    }
}
