using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Control.Canvases;
using Workq.Shared;
using Workq.Shared.Auth;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>Canvases (admin only): create returns the canvas's token once; only its hash is kept.</summary>
public static class CanvasesApi
{
    public static RouteGroupBuilder MapCanvasesApi(this RouteGroupBuilder admin)
    {
        admin.MapPost("/canvases", CreateAsync).WithJsonBody<CreateCanvasRequest>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/canvases", ListAsync);
        admin.MapDelete("/canvases/{canvas}", DeleteAsync).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return admin;
    }

    private static async Task<Results<Created<CreatedCanvas>, ProblemHttpResult>> CreateAsync(
        HttpRequest httpRequest,
        CanvasStore canvases,
        Topology topology,
        CanvasDirectory directory,
        IPublishEndpoint controlPlane,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var (request, problem) = await RequestJson.ReadAsync<CreateCanvasRequest>(httpRequest, cancellationToken);
        if (problem is not null) return problem;
        if (!Names.IsValid(request!.Name)) return Problems.BadName("canvas", request.Name);

        var token = Tokens.NewCanvasToken();
        if (!await canvases.CreateAsync(
            request.Name!,
            Tokens.Hash(token),
            ct => topology.DeclareCanvasAsync(request.Name!, ct),
            cancellationToken))
            return Problems.Conflict($"Canvas '{request.Name}' exists already.");
        directory.Invalidate();
        await controlPlane.Publish(new CanvasChanged(request.Name!, Deleted: false), cancellationToken);
        loggers.CreateLogger(typeof(CanvasesApi)).LogInformation("Canvas {Canvas} created", request.Name);
        return TypedResults.Created($"/v1/canvases/{request.Name}", new CreatedCanvas(request.Name!, token));
    }

    private static async Task<Ok<IReadOnlyList<CanvasSummary>>> ListAsync(
        CanvasStore canvases,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await canvases.ListAsync(cancellationToken));

    /// <summary>The admin group's filter has checked the name.</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string canvas, CanvasDeletion deletion,
        CanvasDirectory directory, IPublishEndpoint controlPlane, ILoggerFactory loggers,
            CancellationToken cancellationToken)
    {
        var workers = await deletion.DeleteAsync(canvas, cancellationToken);
        if (workers is null) return Problems.NotFound($"There is no canvas '{canvas}'.");
        directory.Invalidate();
        await controlPlane.Publish(new CanvasChanged(canvas, Deleted: true), cancellationToken);
        foreach (var (worker, _, _) in workers) await controlPlane.Publish(
            new WorkerChanged(canvas, worker),
            cancellationToken);
        loggers.CreateLogger(typeof(CanvasesApi))
            .LogInformation("Canvas {Canvas} deleted with {Workers} workers", canvas, workers.Count);
        return TypedResults.NoContent();
    }
}
