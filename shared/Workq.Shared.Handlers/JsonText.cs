using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Workq.Shared;

public static class JsonText
{
    /// <summary>
    /// An event body as JSON. Emitters validate events, but anything else that reaches a queue is
    /// shown as a JSON string rather than dropped or failing the request.
    /// </summary>
    public static JsonNode? ParseOrString(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonNode.Parse(utf8);
        }
        catch (JsonException)
        {
            return JsonValue.Create(Encoding.UTF8.GetString(utf8));
        }
    }
}
