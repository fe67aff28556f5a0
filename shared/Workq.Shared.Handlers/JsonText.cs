using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Workq.Shared.Handlers;

public static class JsonText
{
    /// <summary>
    /// How deep stored JSON is read, and answers are written: the emitter takes events up to 256 levels deep (its
    /// readers' limit), and an answer nests one in a few levels of its own (a trace in a lookup, a dead letter in a
    /// list).
    /// </summary>
    public const int MaxDepth = 300;

    private static readonly JsonDocumentOptions Reading = new() { MaxDepth = MaxDepth };

    /// <summary>
    /// An event body as JSON (a lone surrogate in it read as U+FFFD, see <see cref="TenantText.Json"/>). Emitters
    /// validate events, but anything else that reaches a queue is shown as a JSON string rather than dropped or failing
    /// the request.
    /// </summary>
    public static JsonNode? ParseOrString(ReadOnlySpan<byte> utf8)
    {
        var readable = TenantText.Json(utf8);
        try
        {
            return JsonNode.Parse(readable, documentOptions: Reading);
        }
        catch (JsonException)
        {
            return JsonValue.Create(Encoding.UTF8.GetString(readable));
        }
    }

    /// <summary>
    /// Stored JSON text (a trace, a result, a cron's event), read as <see cref="ParseOrString(ReadOnlySpan{byte})"/>
    /// reads a body.
    /// </summary>
    public static JsonNode? ParseOrString(string json) => ParseOrString(Encoding.UTF8.GetBytes(json));
}
