using Microsoft.AspNetCore.Http;

namespace Workq.Shared.Http;

/// <summary>
/// The admin-only routes (canvases, instances): 401 without a known token, 403 for a canvas token; then a bad
/// <c>{canvas}</c> in the path is a 400.
/// </summary>
public sealed class AdminAccessFilter(AccessControl access) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (await access.AuthorizeAdminAsync(http) is { } denied) return denied;
        if (http.Request.RouteValues.TryGetValue("canvas", out var canvas)
            && !Names.IsValid(canvas as string)) return Problems.BadName("canvas", canvas as string);
        return await next(context);
    }
}
