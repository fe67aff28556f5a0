namespace Workq.Tests.Integration.ApiFuzz;

/// <summary>One operation of an OpenAPI document, its schemas resolved against the document's components.</summary>
public sealed record ApiOperation(
    string Service,
    Uri BaseUrl,
    string Method,
    string Path,
    IReadOnlyList<ApiParameter> Parameters,
    JsonNode? BodySchema)
{
    public string Name => $"{Method} {Path}";

    /// <summary>
    /// The operations of an OpenAPI 3 document (its <c>$ref</c>s resolved, so generators see whole schemas).
    /// </summary>
    public static IReadOnlyList<ApiOperation> Read(JsonNode document, string service, Uri baseUrl)
    {
        var operations = new List<ApiOperation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (method is not ("get" or "put" or "post" or "patch" or "delete")) continue;
                var parameters = (operation!["parameters"]?.AsArray() ?? [])
                    .Select(p => new ApiParameter(
                        p!["name"]!.GetValue<string>(),
                        p["in"]!.GetValue<string>(),
                        Resolve(document, p["schema"], 0)))
                    .ToList();
                var body = operation["requestBody"]?["content"]?["application/json"]?["schema"];
                var bodySchema = body is null ? null : Resolve(document, body, 0);
                operations.Add(
                    new ApiOperation(service, baseUrl, method.ToUpperInvariant(), path, parameters, bodySchema));
            }
        }
        return operations;
    }

    /// <summary>
    /// A copy of the schema with every <c>$ref</c> replaced by what it names (recursive types stop after a few levels).
    /// </summary>
    private static JsonNode? Resolve(JsonNode document, JsonNode? schema, int references)
    {
        if (schema is null || references > 6) return null;
        if (schema is JsonObject { } reference && reference["$ref"]?.GetValue<string>() is { } target)
        {
            var named = target.Split('/').Skip(1).Aggregate((JsonNode?)document, (node, part) => node?[part]);
            return Resolve(document, named, references + 1);
        }
        return schema switch
        {
            JsonObject o => new JsonObject(
                o.Select(p => KeyValuePair.Create(p.Key, Resolve(document, p.Value, references)))),
            JsonArray a => new JsonArray([.. a.Select(i => Resolve(document, i, references))]),
            _ => schema.DeepClone(),
        };
    }
}
