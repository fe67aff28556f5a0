using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Shared.Handlers;
using Workq.Shared.Http;

namespace Workq.Control.Apis;

/// <summary>
/// Reads a JSON request body into a DTO and explains what is wrong when it cannot, instead of the
/// framework's bare 400 (or worse). Routes take <see cref="HttpRequest"/> and call this.
/// </summary>
public static class RequestJson
{
    public const int MaxControlBodyBytes = 1_048_576;

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request,
        CancellationToken cancellationToken) where T : class
    {
        var (body, tooLarge) = await ReadBodyAsync(request, MaxControlBodyBytes, cancellationToken);
        if (tooLarge is not null) return (null, tooLarge);
        if (body!.Length == 0) return (null, Problems.BadRequest("The body is empty; a JSON object is required."));
        try
        {
            // Read by the tenant-text rule (a lone surrogate in a string is U+FFFD, not a value System.Text.Json cannot
            // read), and a property given twice is refused: which one would win is ambiguous.
            using var document = JsonDocument.Parse(
                TenantText.Json(body.GetBuffer().AsSpan(0, (int)body.Length)).ToArray(),
                Strict);
            var value = document.Deserialize<T>(JsonDefaults.Web);
            return value is null
                ? (null, Problems.BadRequest("The body must be a JSON object, not null."))
                : (value, null);
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 0 } path ? $" at {path}" : "";
            return (null, Problems.BadRequest(
                $"The body is not valid JSON for this route{where}: {FirstSentence(e.Message)}"));
        }
    }

    /// <summary>
    /// Any JSON value, as a body of at most <paramref name="maxBytes"/> (an empty body is <c>null</c>), read by the
    /// tenant-text rule; or the problem with it.
    /// </summary>
    public static async Task<(byte[]? Json, ProblemHttpResult? Problem)> ReadValueAsync(
        HttpRequest request,
        int maxBytes,
        string limitName,
        CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await ReadBodyAsync(request, maxBytes, cancellationToken);
        if (tooLarge is not null) return (null, TypedResults.Problem(
            detail: $"The body is larger than the limit of {maxBytes} bytes ({limitName}).",
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Payload too large"));
        if (body!.Length == 0) return ("null"u8.ToArray(), null);
        var json = TenantText.Json(body.GetBuffer().AsSpan(0, (int)body.Length)).ToArray();
        try
        {
            using var document = JsonDocument.Parse(json, Strict);
        }
        catch (JsonException e)
        {
            return (null, Problems.BadRequest($"The body is not valid JSON: {FirstSentence(e.Message)}"));
        }
        return (json, null);
    }

    private static async Task<(MemoryStream? Body, ProblemHttpResult? TooLarge)> ReadBodyAsync(
        HttpRequest request,
        int maxBytes,
        CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes) return (null, TooLarge);
        var body = new MemoryStream();
        try
        {
            await new LimitedStream(request.Body, maxBytes).CopyToAsync(body, cancellationToken);
        }
        catch (BodyTooLargeException)
        {
            return (null, TooLarge);
        }
        return (body, null);
    }

    private static ProblemHttpResult TooLarge => TypedResults.Problem(
        detail: $"The body is larger than the limit of {MaxControlBodyBytes} bytes.",
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Payload too large");

    private static string FirstSentence(string message) => message.Split(". Path:", 2)[0].Split(" LineNumber:", 2)[0];

    private sealed class BodyTooLargeException : Exception;

    /// <summary>Stops reading past the limit, for bodies sent without Content-Length.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
            => throw new NotSupportedException("Synchronous reads are not allowed.");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(
            Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            read += n;
            if (read > limit) throw new BodyTooLargeException();
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
