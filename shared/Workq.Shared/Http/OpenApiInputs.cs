using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace Workq.Shared.Http;

/// <summary>
/// What the OpenAPI document cannot learn from the routes' bindings alone: the types of inputs bound as text, and JSON
/// bodies read by hand.
/// </summary>
public static class OpenApiInputs
{
    /// <summary>
    /// The query parameters and headers of the group's routes that are bound as text and marked
    /// <see cref="ParsedAsAttribute"/> show the type their route parses them as. One bound as <c>StringValues</c> (so
    /// that a repeated header can be refused by name) shows the one value it takes: its <c>[MaxLength]</c>, which reads
    /// as a count of items on a list, is that value's length.
    /// </summary>
    public static RouteGroupBuilder WithParsedInputTypes(this RouteGroupBuilder group) =>
        group.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            foreach (var input in context.Description.ParameterDescriptions)
            {
                var parameter = (input.ParameterDescriptor as IParameterInfoParameterDescriptor)?.ParameterInfo;
                if (parameter?.GetCustomAttribute<ParsedAsAttribute>() is not { } parsed) continue;
                var bound = operation.Parameters?.FirstOrDefault(p => p.Name == input.Name);
                if (bound?.Schema is not OpenApiSchema schema) continue;
                if (schema.Items is not null)
                {
                    schema.Items = null;
                    (schema.MaxLength, schema.MaxItems) = (schema.MaxItems, null);
                }
                schema.Type = parsed.Type;
                schema.Format = parsed.Format;
            }
            return Task.CompletedTask;
        });

    /// <summary>
    /// The route's JSON body, read by hand (so that a bad one is explained): <typeparamref name="TBody"/> is its shape.
    /// Only the document says so: unlike <c>Accepts</c>, this does not make routing refuse other content types (curl's
    /// <c>-d</c> sends form's).
    /// </summary>
    public static RouteHandlerBuilder WithJsonBody<TBody>(this RouteHandlerBuilder route) =>
        route.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new()
                    {
                        Schema = await context.GetOrCreateSchemaAsync(typeof(TBody), null, cancellationToken)
                    },
                },
            });
}
