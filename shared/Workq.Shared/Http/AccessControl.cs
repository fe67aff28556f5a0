using Microsoft.AspNetCore.Http;
using Workq.Shared.Auth;
using Workq.Shared.Configuration;

namespace Workq.Shared.Http;

/// <summary>
/// API.md "Auth": the admin token acts on every canvas, a canvas token on its own canvas only.
/// No or unknown token: 401; a canvas token elsewhere or on an admin route: 403.
/// </summary>
public sealed class AccessControl(ServiceOptions options, CanvasDirectory directory)
{
    private static readonly object IncarnationKey = new();
    private static readonly object AdminKey = new();

    private abstract record Caller;
    private sealed record Admin : Caller;
    private sealed record CanvasOwner(string Canvas, long Incarnation) : Caller;

    /// <returns>
    /// null when the caller may act on the canvas (which then exists), else the problem to answer. The incarnation the
    /// caller acts on is kept for the request (<see cref="CanvasIncarnation"/>): a canvas token's own, which a canvas
    /// re-created under its name is not.
    /// </returns>
    public async ValueTask<IResult?> AuthorizeCanvasAsync(HttpContext http, string canvas)
    {
        var caller = await IdentifyAsync(http);
        if (caller is null) return Problems.Unauthorized("A valid 'Authorization: Bearer <token>' header is required.");
        if (!Names.IsValid(canvas)) return Problems.BadName("canvas", canvas);
        if (caller is CanvasOwner owner && owner.Canvas != canvas) return Problems.Forbidden(
            $"This token belongs to canvas '{owner.Canvas}', not '{canvas}'.");
        if (await directory.IncarnationAsync(canvas, http.RequestAborted) is not { } incarnation) return Problems
            .NotFound($"There is no canvas '{canvas}'.");
        http.Items[IncarnationKey] = caller is CanvasOwner own ? own.Incarnation : incarnation;
        if (caller is Admin) http.Items[AdminKey] = true;
        return null;
    }

    /// <summary>The incarnation of the canvas the request was authorized for (0 outside a canvas route).</summary>
    public static long CanvasIncarnation(HttpContext http)
        => http.Items.TryGetValue(IncarnationKey, out var incarnation) && incarnation is long known ? known : 0;

    /// <summary>Who made a canvas route's request, as a trace names them: the admin, or the canvas's token.</summary>
    public static string CallerName(HttpContext http) =>
        http.Items.ContainsKey(AdminKey) ? "admin" : "the canvas's token";

    /// <returns>null for the admin, else the problem to answer.</returns>
    public async ValueTask<IResult?> AuthorizeAdminAsync(HttpContext http) => await IdentifyAsync(http) switch
    {
        null => Problems.Unauthorized("A valid 'Authorization: Bearer <token>' header is required."),
        Admin => null,
        _ => Problems.Forbidden("This route needs the admin token."),
    };


    private async ValueTask<Caller?> IdentifyAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return null;
        var token = header[scheme.Length..].Trim();
        if (token.Length is 0 or > 512) return null;
        if (options.AdminToken is { } admin && Tokens.FixedTimeEquals(token, admin)) return new Admin();
        return await directory.CanvasOfTokenAsync(token, http.RequestAborted) is var (canvas, incarnation)
            ? new CanvasOwner(canvas, incarnation)
            : null;
    }
}
