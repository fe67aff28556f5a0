using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Control.Apis;
using Workq.Control.Events;
using Workq.Shared.Configuration;
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

    private static Results<Ok<BatchView>, ProblemHttpResult, Problems.RetryAfterResult> Answer(
        BatchRoute route,
        Guid id,
        BatchRow? row) => row is null
        ? Problems.NotFound($"No batch '{id}' on canvas '{route.Canvas}' (finished batches are kept for " +
            "WORKQ_BATCH_RETENTION_HOURS).")
        : TypedResults.Ok(BatchView.From(row));

    private static ProblemHttpResult NotABatchId(string id) =>
        Problems.BadRequest($"'{id}' is not a batch id (a GUID).");
}
