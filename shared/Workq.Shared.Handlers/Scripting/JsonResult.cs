using System.Text.Json;
using System.Text.Json.Nodes;

namespace Workq.Shared.Scripting;

/// <summary>Turns a handler's return value into the JSON stored in its trace.</summary>
public static class JsonResult
{
    /// <summary>A trace keeps a result up to this many characters of JSON.</summary>
    public const int MaxTraceResultChars = 65_536;

    /// <summary>The result as the trace stores it: its JSON, or a note in its place when it is too long.</summary>
    public static string ToTraceJson(object? result, JsonSerializerOptions? options = null)
    {
        var json = ToJson(result, options)?.ToJsonString() ?? "null";
        return Capped(json);
    }

    /// <summary>The JSON as kept: itself, or a note in its place when it is too long.</summary>
    public static string Capped(string json) => json.Length > MaxTraceResultChars ? TooLong(json.Length) : json;

    public static string TooLong(int length) => JsonSerializer.Serialize($"[result of {length} characters not kept; the limit is {MaxTraceResultChars}]");

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
