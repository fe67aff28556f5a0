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
    // Notifications wake waiters; this bounds how late one is when a notification was lost.
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

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
        var wait = 0;
        if (route.Wait is { } text && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out wait)
            || wait > MaxWaitSeconds))
            return Problems.BadRequest($"\"wait\" must be a whole number of seconds from 0 to {MaxWaitSeconds}.");
        if (wait == 0) return Answer(route, id, await statuses.FindAsync(route.Canvas, id, cancellationToken));
        if (!waiters.TryEnter())
            return Problems.TooManyRequests($"{options.MaxWaits} requests already wait on this control instance " +
                $"(WORKQ_MAX_EVENT_WAITS); " +
                "retry after the seconds in Retry-After, or ask without wait.", TimeSpan.FromSeconds(1));
        try
        {
            return await WaitAsync(route, id, wait, statuses, waiters, clock, cancellationToken);
        }
        finally
        {
            waiters.Leave();
        }
    }

    private static async Task<Results<Ok<EventStatusView>, ProblemHttpResult, Problems.RetryAfterResult>> WaitAsync(
        EventStatusRoute route,
        Guid id,
        int wait,
        EventStatusStore statuses,
        EventStatusWaiters waiters,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow().AddSeconds(wait);
        while (true)
        {
            var changed = waiters.NextChange(route.Canvas);
            var row = await waiters.ReadAsync(
                () => statuses.FindAsync(route.Canvas, id, cancellationToken),
                cancellationToken);
            var left = deadline - clock.GetUtcNow();
            // An id not written yet may be a 202 whose status is still in the emitter's next flush: a wait waits for it
            // too.
            if ((row is not null && EventStatuses.IsFinal(row.Status))
                || left <= TimeSpan.Zero) return Answer(route, id, row);
            await Task.WhenAny(changed, Task.Delay(left < Poll ? left : Poll, clock, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

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
