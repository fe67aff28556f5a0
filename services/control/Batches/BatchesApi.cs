using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Control.Apis;
using Workq.Control.Events;
using Workq.Shared.Configuration;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Batches;

/// <summary>
/// A canvas's batches (API.md "Batches"): one with <c>?wait=N</c> (as an event's status), the list newest first, and
/// cancelling one.
/// </summary>
public static class BatchesApi
{
    public static RouteGroupBuilder MapBatchesApi(this RouteGroupBuilder canvas)
    {
        canvas.MapGet("/batches/{id}", GetAsync).ProducesProblem(StatusCodes.Status429TooManyRequests);
        canvas.MapGet("/batches", ListAsync);
        canvas.MapDelete("/batches/{id}", CancelAsync).ProducesProblem(StatusCodes.Status409Conflict);
        return canvas;
    }

    private static async Task<Results<Ok<BatchView>, ProblemHttpResult, Problems.RetryAfterResult>> GetAsync(
        [AsParameters] BatchRoute route,
        BatchStore batches,
        EventStatusWaiters waiters,
        EventStatusOptions options,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(route.Id, out var id)) return NotABatchId(route.Id);
        if (EventsApi.ParseWait(route.Wait, out var wait) is { } badWait) return badWait;
        if (wait == 0) return Answer(route, id, await batches.FindAsync(route.Canvas, id, cancellationToken));
        if (!waiters.TryEnter()) return EventsApi.TooManyWaits(options);
        try
        {
            return Answer(route, id, await waiters.WaitAsync(
                route.Canvas,
                () => batches.FindAsync(route.Canvas, id, cancellationToken),
                row => row is { FinishedAt: not null },
                TimeSpan.FromSeconds(wait),
                clock,
                cancellationToken));
        }
        finally
        {
            waiters.Leave();
        }
    }

    /// <summary>The body is a plain array; the next page is in <c>Link</c> and <c>X-Next-Cursor</c>.</summary>
    private static async Task<Results<Ok<List<BatchView>>, ProblemHttpResult>> ListAsync(
        string canvas,
        [AsParameters] BatchListQuery query,
        [AsParameters] PageQuery paging,
        HttpContext http,
        BatchStore batches,
        CancellationToken cancellationToken)
    {
        if (query.State is { } state && !BatchStates.IsState(state))
            return Problems.BadRequest("\"state\" must be open, running or completed.");
        if (paging.ParseLimit(out var limit) is { } badLimit) return badLimit;
        PageCursor? after = null;
        if (paging.Cursor is { } cursorText && (after = PageCursor.TryDecode(cursorText)) is null)
            return PageQuery.BadCursor;
        var rows = await batches.ListAsync(canvas, query.State, after, limit + 1, cancellationToken);
        if (rows.Count > limit)
        {
            rows.RemoveAt(limit);
            PageQuery.LinkNext(http, new PageCursor(rows[^1].Created, rows[^1].Id).Encode());
        }
        return TypedResults.Ok(rows.ConvertAll(BatchView.From));
    }

    /// <summary>
    /// Cancels the batch, then tells the worker instances to skip its queued members and the status store that they are
    /// cancelled (a status written late by a flush, never the batch's count, which the cancel's transaction holds).
    /// </summary>
    private static async Task<Results<Ok<BatchView>, ProblemHttpResult>> CancelAsync(
        string canvas,
        string id,
        HttpContext http,
        BatchStore batches,
        EventStatusStore statuses,
        IPublishEndpoint controlPlane,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var batchId)) return NotABatchId(id);
        var cancel = await batches.CancelAsync(canvas, batchId, cancellationToken);
        if (cancel.Change == BatchChange.NotFound) return NoSuchBatch(canvas, batchId);
        if (cancel.Change == BatchChange.Finished)
            return Problems.Conflict($"Batch '{batchId}' has already completed; there is nothing to cancel.");
        // The running members too: each is stopped where it runs (API.md "Cancel"), and counts as it ends.
        foreach (var chunk in cancel.Cancelled.Concat(cancel.Running).Chunk(CancelledPerMessage))
            await controlPlane.Publish(
                new EventsCancelled(canvas, Array.ConvertAll(chunk, c => c.Worker), Array.ConvertAll(chunk, c => c.Id),
                    http.Caller()),
                cancellationToken);
        var delayed = cancel.Delayed.ToDictionary(d => d.Id, d => d.EnqueuedAt);
        await statuses.CancelManyAsync(
            canvas,
            http.CanvasIncarnation(),
            cancel.Cancelled
                .Select(c => (c.Id, c.Worker, delayed.TryGetValue(c.Id, out var at) ? at : (DateTimeOffset?)null))
                .ToList(),
            cancellationToken);
        return TypedResults.Ok(BatchView.From((await batches.FindAsync(canvas, batchId, cancellationToken))!));
    }

    /// <summary>Ids per control-plane message: a 100,000-event batch is a hundred messages, none huge.</summary>
    private const int CancelledPerMessage = 1_000;

    private static ProblemHttpResult NoSuchBatch(string canvas, Guid id) =>
        Problems.NotFound($"No batch '{id}' on canvas '{canvas}' (finished batches are kept for " +
            "WORKQ_BATCH_RETENTION_HOURS).");

    private static Results<Ok<BatchView>, ProblemHttpResult, Problems.RetryAfterResult> Answer(
        BatchRoute route,
        Guid id,
        BatchRow? row) => row is null ? NoSuchBatch(route.Canvas, id) : TypedResults.Ok(BatchView.From(row));

    private static ProblemHttpResult NotABatchId(string id) =>
        Problems.BadRequest($"'{id}' is not a batch id (a GUID).");
}
