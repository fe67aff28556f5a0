using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Workq.Shared.Http;

/// <summary>
/// The access check of every <c>/v1/canvases/{canvas}</c> route, run before the handler: the caller may act on the
/// canvas (401, 400 for a bad name, 403, 404 for an unknown canvas), is the admin where the route is
/// <see cref="AdminOnly"/> (403), and the other names in the path (<c>{worker}</c>, <c>{cron}</c>) are valid (400).
/// </summary>
public sealed class CanvasAccessFilter(AccessControl access) : IEndpointFilter
{
    private static readonly string[] NamedRouteValues = ["worker", "cron"];

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var canvas = http.Request.RouteValues["canvas"] as string ?? "";
        if (await access.AuthorizeCanvasAsync(http, canvas) is { } denied) return denied;
        if (http.GetEndpoint()?.Metadata.GetMetadata<AdminOnly>() is not null
            && await access.AuthorizeAdminAsync(http) is { } notAdmin) return notAdmin;
        return BadRouteName(http) ?? await next(context);
    }

    private static ProblemHttpResult? BadRouteName(HttpContext http)
    {
        foreach (var what in NamedRouteValues)
        {
            if (http.Request.RouteValues.TryGetValue(what, out var value)
                && !Names.IsValid(value as string)) return Problems.BadName(what, value as string);
        }
        return null;
    }
}
