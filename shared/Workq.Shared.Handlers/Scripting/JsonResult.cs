using System.Text.Json;
using System.Text.Json.Nodes;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// Turns a handler's return value into the JSON stored in its trace (the worker service holds it to
/// WORKQ_MAX_TRACE_BYTES).
/// </summary>
public static class JsonResult
{
    /// <summary>
    /// Written as deep as stored JSON is read: a handler may return its event (the emitter takes 256 levels).
    /// </summary>
    private static readonly JsonSerializerOptions Writing = new() { MaxDepth = JsonText.MaxDepth };

    /// <summary>
    /// The result's JSON, <c>null</c> for none; a node that cannot be written (deeper still) becomes a string saying
    /// why.
    /// </summary>
    public static string ToTraceJson(object? result, JsonSerializerOptions? options = null)
    {
        var node = ToJson(result, options);
        try
        {
            return node?.ToJsonString(Writing) ?? "null";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return JsonSerializer.Serialize($"[the result could not be written as JSON: {e.Message}]", Writing);
        }
    }

    /// <summary>
    /// null stays null, a <see cref="JsonNode"/> is kept as is, anything else is serialized;
    /// a value that cannot be serialized (a cycle, an unsupported type) becomes its ToString() as a JSON string.
    /// Pass <see cref="CompiledHandler.SerializerOptions"/> so that script-defined types do not pin an unloaded
    /// version.
    /// </summary>
    public static JsonNode? ToJson(object? result, JsonSerializerOptions? options = null)
    {
        switch (result)
        {
            case null:
                return null;
            case JsonNode node:
                return node;
        }

        try
        {
            return JsonSerializer.SerializeToNode(result, result.GetType(), options ?? JsonSerializerOptions.Default);
        }
        catch (Exception)
        {
            // Cycles, unsupported types and throwing getters all end here.
            return JsonValue.Create(SafeToString(result));
        }
    }

    private static string? SafeToString(object result)
    {
        try
        {
            return result.ToString();
        }
        catch (Exception e)
        {
            // User code: its ToString may throw too.
            return $"<{result.GetType().Name}: ToString threw {e.GetType().Name}>";
        }
    }
}
