using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Workq.Shared.Http;

/// <summary>Marks a route of a canvas group that only the admin token may use (block, unblock).</summary>
public sealed record AdminOnly;

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

public static class AccessFilterExtensions
{
    /// <summary>
    /// The group of routes under <c>/v1/canvases/{canvas}</c>, behind <see cref="CanvasAccessFilter"/> and <see
    /// cref="SingleValuedQuery"/>, with the problems they answer and the types of the inputs they parse.
    /// </summary>
    public static RouteGroupBuilder MapCanvasGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup("/v1/canvases/{canvas}").AddEndpointFilter<CanvasAccessFilter>()
            .AddEndpointFilter<SingleValuedQuery>()
            .WithParsedInputTypes()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

    /// <summary>
    /// The admin-only routes under <c>/v1</c>, behind <see cref="AdminAccessFilter"/> and <see
    /// cref="SingleValuedQuery"/>.
    /// </summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup("/v1").AddEndpointFilter<AdminAccessFilter>().AddEndpointFilter<SingleValuedQuery>()
            .WithParsedInputTypes()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

    /// <summary>
    /// The incarnation of the canvas a canvas route's caller was authorized for: what the request writes is for it
    /// alone.
    /// </summary>
    public static long CanvasIncarnation(this HttpContext http) => AccessControl.CanvasIncarnation(http);

    /// <summary>
    /// Only the admin token may use this route of a canvas group (a canvas token gets 403, even on its own canvas).
    /// </summary>
    public static RouteHandlerBuilder RequireAdmin(this RouteHandlerBuilder route)
        => route.WithMetadata(new AdminOnly());
}
