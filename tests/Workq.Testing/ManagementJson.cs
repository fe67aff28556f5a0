using System.Text.Json;
using System.Text.Json.Nodes;

namespace Workq.Testing;

/// <summary>
/// Parses RabbitMQ management API answers. Some of them name a property twice (a quorum queue's <c>node</c>, asked as a
/// column, came twice once in CI), which <see cref="JsonObject"/> refuses when it is read; here the last one wins.
/// </summary>
public static class ManagementJson
{
    public static JsonNode Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return From(document.RootElement)!;
    }

    private static JsonNode? From(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new JsonObject(element.EnumerateObject()
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, From(g.Last().Value)))),
        JsonValueKind.Array => new JsonArray(element.EnumerateArray().Select(From).ToArray()),
        JsonValueKind.Null => null,
        _ => JsonValue.Create(element.Clone()),
    };
}
