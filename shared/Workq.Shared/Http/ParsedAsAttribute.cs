using Microsoft.OpenApi;

namespace Workq.Shared.Http;

/// <summary>
/// The type a route parses a query parameter or header as, when it binds the text and parses it itself: a bad value is
/// then a problem naming it, where a typed binding would answer a bare 400. The OpenAPI document shows this type.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ParsedAsAttribute(JsonSchemaType type) : Attribute
{
    public JsonSchemaType Type => type;

    /// <summary>The schema's format, such as <c>date-time</c>.</summary>
    public string? Format { get; init; }
}
