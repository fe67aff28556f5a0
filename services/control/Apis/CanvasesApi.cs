using MassTransit;
using Workq.Control.Canvases;
using Workq.Shared;
using Workq.Shared.Auth;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record CreateCanvasRequest(string? Name);
public sealed record CreatedCanvas(string Name, string Token);

/// <summary>Canvases (admin only): create returns the canvas's token once; only its hash is kept.</summary>
public static class CanvasesApi
{
    public static IEndpointRouteBuilder MapCanvasesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/canvases", CreateAsync);
        app.MapGet("/v1/canvases", ListAsync);
        app.MapDelete("/v1/canvases/{canvas}", DeleteAsync);
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, AccessControl access, CanvasStore canvases, Topology topology,
        CanvasDirectory directory, IPublishEndpoint controlPlane, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeAdminAsync(http) is { } denied) return denied;
        var (request, problem) = await RequestJson.ReadAsync<CreateCanvasRequest>(http.Request, cancellationToken);
        if (problem is not null) return problem;
        if (!Names.IsValid(request!.Name)) return Problems.BadName("canvas", request.Name);

        var token = Tokens.NewCanvasToken();
        if (!await canvases.CreateAsync(request.Name!, Tokens.Hash(token), cancellationToken))
            return Problems.Conflict($"Canvas '{request.Name}' exists already.");
        await topology.DeclareCanvasAsync(request.Name!, cancellationToken);
        directory.Invalidate();
        await controlPlane.Publish(new CanvasChanged(request.Name!, Deleted: false), cancellationToken);
        loggers.CreateLogger(typeof(CanvasesApi)).LogInformation("Canvas {Canvas} created", request.Name);
        return Results.Created($"/v1/canvases/{request.Name}", new CreatedCanvas(request.Name!, token));
    }

    private static async Task<IResult> ListAsync(HttpContext http, AccessControl access, CanvasStore canvases, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeAdminAsync(http) is { } denied) return denied;
        return Results.Ok(await canvases.ListAsync(cancellationToken));
    }

    private static async Task<IResult> DeleteAsync(string canvas, HttpContext http, AccessControl access, CanvasDeletion deletion, Topology topology,
        CanvasDirectory directory, IPublishEndpoint controlPlane, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await access.AuthorizeAdminAsync(http) is { } denied) return denied;
        if (!Names.IsValid(canvas)) return Problems.BadName("canvas", canvas);
        var workers = await deletion.DeleteAsync(canvas, cancellationToken);
        if (workers is null) return Problems.NotFound($"There is no canvas '{canvas}'.");
        directory.Invalidate();
        await topology.DeleteCanvasAsync(canvas, workers, cancellationToken);
        await controlPlane.Publish(new CanvasChanged(canvas, Deleted: true), cancellationToken);
        foreach (var worker in workers) await controlPlane.Publish(new WorkerChanged(canvas, worker), cancellationToken);
        loggers.CreateLogger(typeof(CanvasesApi)).LogInformation("Canvas {Canvas} deleted with {Workers} workers", canvas, workers.Count);
        return Results.NoContent();
    }
}
