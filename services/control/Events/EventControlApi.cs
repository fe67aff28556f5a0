using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Control.Apis;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Events;

/// <summary>
/// Steering one event of a canvas (API.md "Durable handlers"): <c>POST .../events/{id}/cancel</c> and
/// <c>POST .../events/{id}/signals/{name}</c>. A canvas finds only its own events: another's id is a 404.
/// </summary>
public static class EventControlApi
{
    public static RouteGroupBuilder MapEventControlApi(this RouteGroupBuilder canvas)
    {
        canvas.MapPost("/events/{id}/cancel", CancelAsync).ProducesProblem(StatusCodes.Status409Conflict);
        canvas.MapPost("/events/{id}/signals/{name}", SignalAsync)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return canvas;
    }

    // An event's status is written a flush after its 202: an id not found yet is looked for that long.
    private static readonly TimeSpan StatusLag = TimeSpan.FromSeconds(1);

    private static Task<EventStatusRow?> FindAsync(
        string canvas,
        Guid id,
        EventStatusStore statuses,
        EventStatusWaiters waiters,
        TimeProvider clock,
        CancellationToken cancellationToken) =>
        waiters.WaitAsync(canvas, () => statuses.FindAsync(canvas, id, cancellationToken), row => row is not null,
            StatusLag, clock, cancellationToken);

    private static async Task<Results<Accepted<CancelAnswer>, ProblemHttpResult>> CancelAsync(
        string canvas,
        string id,
        HttpContext http,
        EventStatusStore statuses,
        EventStatusWaiters waiters,
        TimeProvider clock,
        EventCancels cancels,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var eventId)) return NotAnEventId(id);
        if (await FindAsync(canvas, eventId, statuses, waiters, clock, cancellationToken) is not { } status)
            return NoSuchEvent(canvas, eventId);
        if (EventStatuses.IsFinal(status.Status))
            return Problems.Conflict($"Event '{eventId}' is already {status.Status}; there is nothing to cancel.");
        var removed = await cancels.CancelAsync(canvas, http.CanvasIncarnation(), status.Worker, eventId,
            http.Caller(), cancellationToken);
        // Queued, delayed, sleeping or waiting: cancelled now. Running: its handler is asked to stop.
        var now = removed || status.Status is EventStatuses.Queued or EventStatuses.Scheduled
            ? EventStatuses.Cancelled
            : EventStatuses.Running;
        return TypedResults.Accepted((string?)null, new CancelAnswer(eventId, now));
    }

    private static async Task<Results<Accepted<SignalAnswer>, ProblemHttpResult>> SignalAsync(
        string canvas,
        string id,
        string name,
        HttpContext http,
        EventStatusStore statuses,
        EventStatusWaiters waiters,
        TimeProvider clock,
        StepStore steps,
        EmitLimits limits,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var eventId)) return NotAnEventId(id);
        if (StepLimits.NameProblem(name) is { } badName)
            return Problems.BadRequest($"'{name}' is not a signal name: {badName}.");
        var (json, problem) = await RequestJson.ReadValueAsync(http.Request, limits.MaxStepBytes,
            "WORKQ_MAX_STEP_BYTES", cancellationToken);
        if (problem is not null) return problem;
        if (await FindAsync(canvas, eventId, statuses, waiters, clock, cancellationToken) is not { } status)
            return NoSuchEvent(canvas, eventId);
        var outcome = await steps.SignalAsync(canvas, http.CanvasIncarnation(), eventId, name, json!,
            EventStatuses.IsFinal(status.Status), cancellationToken);
        return outcome.State switch
        {
            SignalState.Resumed => TypedResults.Accepted((string?)null, new SignalAnswer(eventId, name, "resumed")),
            SignalState.Kept => TypedResults.Accepted((string?)null, new SignalAnswer(eventId, name, "kept")),
            SignalState.AlreadySignalled => Problems.Conflict(
                $"Event '{eventId}' was already signalled '{name}'; the signal is not taken yet."),
            _ => Problems.NotFound(outcome.WaitingFor is { } other
                ? $"Event '{eventId}' is not waiting for '{name}': it waits for '{other}'."
                : $"Event '{eventId}' is {status.Status}: it waits for no signal any more."),
        };
    }

    private static ProblemHttpResult NotAnEventId(string id) =>
        Problems.BadRequest($"'{id}' is not an event id (a GUID).");

    private static ProblemHttpResult NoSuchEvent(string canvas, Guid id) =>
        Problems.NotFound($"No event '{id}' on canvas '{canvas}' (event statuses are kept for " +
            "WORKQ_EVENT_STATUS_RETENTION_HOURS).");
}
