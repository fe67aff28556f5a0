using System.Text.Json;
using System.Text.Json.Nodes;

namespace Workq.Shared.Scripting;

/// <summary>Turns a handler's return value into the JSON stored in its trace (the worker service holds it to WORKQ_MAX_TRACE_BYTES).</summary>
public static class JsonResult
{
    /// <summary>The result's JSON, <c>null</c> for none.</summary>
    public static string ToTraceJson(object? result, JsonSerializerOptions? options = null) => ToJson(result, options)?.ToJsonString() ?? "null";

    /// <summary>
    /// null stays null, a <see cref="JsonNode"/> is kept as is, anything else is serialized;
    /// a value that cannot be serialized (a cycle, an unsupported type) becomes its ToString() as a JSON string.
    /// Pass <see cref="CompiledHandler.SerializerOptions"/> so that script-defined types do not pin an unloaded version.
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
