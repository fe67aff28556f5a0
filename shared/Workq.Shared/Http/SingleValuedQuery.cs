using Microsoft.AspNetCore.Http;

namespace Workq.Shared.Http;

/// <summary>
/// Every query parameter of the API takes one value. One given twice is ambiguous (which would win?): refused with a
/// 400 naming it, before the route reads it, on every route of the canvas and admin groups.
/// </summary>
public sealed class SingleValuedQuery : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        foreach (var (name, values) in context.HttpContext.Request.Query)
        {
            if (values.Count > 1)
                return ValueTask.FromResult<object?>(
                    Problems.BadRequest($"The query parameter \"{Problems.Truncate(name)}\" is given {values.Count} " +
                        $"times; it takes one value."));
        }
        return next(context);
    }
}
