using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Workq.Shared.Http;

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

    /// <summary>Who made a canvas route's request: "admin" or "the canvas's token".</summary>
    public static string Caller(this HttpContext http) => AccessControl.CallerName(http);

    /// <summary>
    /// Only the admin token may use this route of a canvas group (a canvas token gets 403, even on its own canvas).
    /// </summary>
    public static RouteHandlerBuilder RequireAdmin(this RouteHandlerBuilder route)
        => route.WithMetadata(new AdminOnly());
}
