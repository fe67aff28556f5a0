using System.Net;
using System.Text.Json;

namespace Workq.Client;

/// <summary>
/// An error answer of a Workq service, from its problem+json body (RFC 9457): <c>Title</c>, <c>Detail</c>,
/// and for a refused deploy the compile <c>Errors</c> with line and column.
/// </summary>
public sealed class WorkqException(
    HttpStatusCode statusCode,
    string title,
    string? detail,
    IReadOnlyList<CompileError>? errors = null,
    string? type = null)
    : Exception(detail is null ? $"{(int)statusCode} {title}" : $"{(int)statusCode} {title}: {detail}")
{
    public HttpStatusCode StatusCode { get; } = statusCode;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public string? Type { get; } = type;
    public IReadOnlyList<CompileError> Errors { get; } = errors ?? [];

    internal static async Task<WorkqException> FromResponseAsync(
        HttpResponseMessage response,
        CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var fallbackTitle = response.ReasonPhrase ?? response.StatusCode.ToString();
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                return new WorkqException(
                    response.StatusCode,
                    String(root, "title") ?? fallbackTitle,
                    String(root, "detail"),
                    CompileErrors(root),
                    String(root, "type"));
            }
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy's page, say): keep the start of the body as the detail.
        }
        var detail = body.Trim() is { Length: > 0 } text ? (text.Length > 200 ? text[..200] + "…" : text) : null;
        return new WorkqException(response.StatusCode, fallbackTitle, detail);
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<CompileError> CompileErrors(JsonElement root)
    {
        // Only the deploy's list of {line, column, message}; other "errors" shapes are not compile errors.
        if (!root.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Array) return [];
        return errors.EnumerateArray()
            .Where(e => e.ValueKind == JsonValueKind.Object)
            .Select(e => new CompileError(Int(e, "line"), Int(e, "column"), String(e, "message") ?? ""))
            .ToList();
    }

    private static int Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? number : 0;
}
