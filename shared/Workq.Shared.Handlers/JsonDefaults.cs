using System.Text.Json;

namespace Workq.Shared.Handlers;

public static class JsonDefaults
{
    /// <summary>camelCase, as every route of the API speaks.</summary>
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
