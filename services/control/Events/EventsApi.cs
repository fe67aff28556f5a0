using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Shared.Configuration;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Events;

/// <summary>
/// <c>GET /v1/canvases/{canvas}/events/{id}</c>, and <c>?wait=N</c>: the answer once the event finished or N seconds
/// passed.
/// </summary>
public static class EventsApi
{
    public const int MaxWaitSeconds = 60;

    public static RouteGroupBuilder MapEventsApi(this RouteGroupBuilder canvas)
    {
        canvas.MapGet("/events/{id}", GetAsync).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return canvas;
    }

    private static async Task<Results<Ok<EventStatusView>, ProblemHttpResult, Problems.RetryAfterResult>> GetAsync(
        [AsParameters] EventStatusRoute route,
        EventStatusStore statuses,
        EventStatusWaiters waiters,
        EventStatusOptions options,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(route.Id, out var id)) return Problems.BadRequest(
            $"'{route.Id}' is not an event id (a GUID).");
        if (ParseWait(route.Wait, out var wait) is { } badWait) return badWait;
        if (wait == 0) return Answer(route, id, await statuses.FindAsync(route.Canvas, id, cancellationToken));
        if (!waiters.TryEnter()) return TooManyWaits(options);
        try
        {
            return await WaitAsync(route, id, wait, statuses, waiters, clock, cancellationToken);
        }
        finally
        {
            waiters.Leave();
        }
    }

    /// <summary>The seconds of <c>?wait</c> (0 when not given), or the problem with it.</summary>
    public static ProblemHttpResult? ParseWait(string? text, out int wait)
    {
        wait = 0;
        return text is null || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out wait)
            && wait <= MaxWaitSeconds)
            ? null
            : Problems.BadRequest($"\"wait\" must be a whole number of seconds from 0 to {MaxWaitSeconds}.");
    }

    /// <summary>The answer to a wait past <c>WORKQ_MAX_EVENT_WAITS</c>.</summary>
    public static Problems.RetryAfterResult TooManyWaits(EventStatusOptions options) => Problems.TooManyRequests(
        $"{options.MaxWaits} requests already wait on this control instance (WORKQ_MAX_EVENT_WAITS); " +
        "retry after the seconds in Retry-After, or ask without wait.", TimeSpan.FromSeconds(1));

    private static async Task<Results<Ok<EventStatusView>, ProblemHttpResult, Problems.RetryAfterResult>> WaitAsync(
        EventStatusRoute route,
        Guid id,
        int wait,
        EventStatusStore statuses,
        EventStatusWaiters waiters,
        TimeProvider clock,
        CancellationToken cancellationToken) => Answer(route, id, await waiters.WaitAsync(
            route.Canvas,
            () => statuses.FindAsync(route.Canvas, id, cancellationToken),
            // An id not written yet may be a 202 whose status is still in the emitter's next flush: a wait waits for
            // it too.
            row => row is not null && EventStatuses.IsFinal(row.Status),
            TimeSpan.FromSeconds(wait),
            clock,
            cancellationToken));

    private static Results<Ok<EventStatusView>, ProblemHttpResult, Problems.RetryAfterResult> Answer(
        EventStatusRoute route,
        Guid id,
        EventStatusRow? row) =>
        row is null
            ? Problems.NotFound(
                $"No event '{id}' on canvas '{route.Canvas}' "
                + "(statuses are kept for WORKQ_EVENT_STATUS_RETENTION_HOURS).")
            : TypedResults.Ok(EventStatusView.From(row));
}
