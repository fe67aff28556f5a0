using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.OpenApi;

namespace Workq.Shared.Http;

/// <summary>
/// One query parameter or request header of a route, as its OpenAPI document describes it. Routes read these
/// themselves (to answer a bad one with a problem naming it), so the document would not know them otherwise.
/// </summary>
public sealed record ApiInput(string Name, JsonSchemaType Type, string Description, string? Minimum = null, string? Maximum = null,
    int? MaxLength = null, string? Format = null, bool InHeader = false);

/// <summary>Describes the inputs a route reads by hand in its OpenAPI document: its query parameters, headers and JSON body.</summary>
public static class OpenApiInputs
{
    /// <summary>The route's query parameters (and headers), in the order given.</summary>
    public static TBuilder WithInputs<TBuilder>(this TBuilder route, params ApiInput[] inputs) where TBuilder : IEndpointConventionBuilder =>
        route.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var input in inputs)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = input.Name,
                    In = input.InHeader ? ParameterLocation.Header : ParameterLocation.Query,
                    Description = input.Description,
                    Schema = new OpenApiSchema
                    {
                        Type = input.Type,
                        Minimum = input.Minimum,
                        Maximum = input.Maximum,
                        MaxLength = input.MaxLength,
                        Format = input.Format,
                    },
                });
            }
            return Task.CompletedTask;
        });

    /// <summary>
    /// The route's JSON body, read by hand (so that a bad one is explained): <typeparamref name="TBody"/> is its shape. Only the
    /// document says so: unlike <c>Accepts</c>, this does not make routing refuse other content types (curl's <c>-d</c> sends form's).
    /// </summary>
    public static RouteHandlerBuilder WithJsonBody<TBody>(this RouteHandlerBuilder route) =>
        route.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(TBody), null, cancellationToken) },
                },
            });
}
