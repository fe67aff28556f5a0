using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Workq.Shared.ControlPlane;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record PurgedResponse(long Purged);
public sealed record RedrivenResponse(int Redriven);
public sealed record DiscardedResponse(int Discarded);

/// <summary>What is in a worker's queue and beside it: un-enqueue, purge, and the dead letters.</summary>
public static partial class QueueApi
{
    public static RouteGroupBuilder MapQueueApi(this RouteGroupBuilder canvas)
    {
        var worker = canvas.MapGroup("/workers/{worker}");
        worker.MapDelete("/events/{id}", UnEnqueueAsync);
        worker.MapDelete("/events", PurgeAsync);
        worker.MapGet("/dead-letters", ListDeadLettersAsync).WithInputs([.. FilterInputs,
            new ApiInput("limit", JsonSchemaType.Integer, $"Dead letters per page, default {DefaultPageSize}.", Minimum: "1", Maximum: $"{MaxPageSize}"),
            new ApiInput("cursor", JsonSchemaType.String, "Where the page starts: X-Next-Cursor of the previous page.")]);
        worker.MapPost("/dead-letters/redrive", RedriveAsync).WithInputs(FilterInputs).ProducesProblem(StatusCodes.Status429TooManyRequests);
        worker.MapDelete("/dead-letters", DiscardAsync).WithInputs(FilterInputs);
        return canvas;
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> UnEnqueueAsync([AsParameters] EventRoute route, HttpContext http, WorkerCommands commands,
        CancelledEventStore cancelled, ScheduledEventStore scheduled, EventStatusStore statuses, IPublishEndpoint controlPlane, CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route.WorkerRoute, cancellationToken) is { } missing) return missing;
        if (!Guid.TryParse(route.Id, out var eventId)) return Problems.BadRequest($"'{route.Id}' is not an event id (a GUID).");
        var incarnation = http.CanvasIncarnation();
        await cancelled.AddAsync(route.Canvas, incarnation, route.Worker, eventId, cancellationToken);
        // A delayed event not yet due is deleted; the mark above still catches one a pump is publishing right now.
        var removed = await scheduled.DeleteAsync(route.Canvas, route.Worker, eventId, cancellationToken);
        await controlPlane.Publish(new EventCancelled(route.Canvas, route.Worker, eventId), cancellationToken);
        await statuses.CancelAsync(route.Canvas, incarnation, route.Worker, eventId, removed, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<Ok<PurgedResponse>, ProblemHttpResult>> PurgeAsync([AsParameters] WorkerRoute route, WorkerCommands commands, Topology topology,
        ScheduledEventStore scheduled, CancellationToken cancellationToken)
    {
        if (await commands.FindAsync(route, cancellationToken) is not { } worker) return WorkerCommands.NoSuchWorker(route);
        // The scheduled ones first: one due meanwhile is then in the queue when it is purged.
        var delayed = await scheduled.PurgeAsync(route.Canvas, route.Worker, cancellationToken);
        var queued = await topology.PurgeWorkerAsync(route.Canvas, route.Worker, worker.OrderingLanes, cancellationToken);
        return TypedResults.Ok(new PurgedResponse(delayed + queued));
    }

    private const int DefaultPageSize = 100, MaxPageSize = 1_000, MaxSearchLength = 500;

    /// <summary>The filters of the list, the redrive and the discard alike.</summary>
    private static readonly ApiInput[] FilterInputs =
    [
        new("q", JsonSchemaType.String, "A case-insensitive substring of the reason or of the event's payload text.", MaxLength: MaxSearchLength),
        new("reason", JsonSchemaType.String, "How the reason starts, case-insensitive.", MaxLength: MaxSearchLength),
        new("from", JsonSchemaType.String, "Dead-lettered at or after this ISO 8601 date or time.", Format: "date-time"),
        new("to", JsonSchemaType.String, "Dead-lettered before this ISO 8601 date or time.", Format: "date-time"),
    ];

    /// <summary>
    /// The body stays the plain array it always was; the next page is in the <c>Link</c> (rel="next") and
    /// <c>X-Next-Cursor</c> headers, as paged REST lists commonly do, so clients that ignore paging keep working.
    /// </summary>
    private static async Task<Results<Ok<IReadOnlyList<DeadLetter>>, ProblemHttpResult>> ListDeadLettersAsync([AsParameters] WorkerRoute route, HttpContext http,
        WorkerCommands commands, DeadLetterStore deadLetters, CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route, cancellationToken) is { } missing) return missing;
        var query = http.Request.Query;
        if (ParseFilter(query, out var filter) is { } badFilter) return badFilter;
        var limit = DefaultPageSize;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPageSize))
            return Problems.BadRequest($"\"limit\" must be a whole number from 1 to {MaxPageSize}.");
        DeadLetterCursor? after = null;
        if (query.TryGetValue("cursor", out var cursorText) && (after = DeadLetterCursor.TryDecode(cursorText.ToString())) is null)
            return Problems.BadRequest("\"cursor\" is not a cursor this service gave out (take it from X-Next-Cursor or the Link header).");

        var page = await deadLetters.SearchAsync(route.Canvas, route.Worker, filter, after, limit, cancellationToken);
        if (page.Next is { } next)
        {
            var cursor = next.Encode();
            var nextQuery = QueryString.Create(query.Where(p => p.Key != "cursor")
                .Select(p => KeyValuePair.Create(p.Key, (string?)p.Value.ToString())).Append(KeyValuePair.Create("cursor", (string?)cursor)));
            http.Response.Headers["X-Next-Cursor"] = cursor;
            http.Response.Headers.Link = $"<{http.Request.PathBase}{http.Request.Path}{nextQuery}>; rel=\"next\"";
        }
        return TypedResults.Ok(page.Items);
    }

    private static async Task<Results<Ok<RedrivenResponse>, ProblemHttpResult>> RedriveAsync([AsParameters] WorkerRoute route, HttpRequest request,
        WorkerCommands commands, DeadLetterStore deadLetters, EventPublisher publisher, EventStatusRecorder statuses, CancellationToken cancellationToken)
    {
        if (await commands.FindAsync(route, cancellationToken) is not { } worker) return WorkerCommands.NoSuchWorker(route);
        if (ParseFilter(request.Query, out var filter) is { } badFilter) return badFilter;
        // A redriven dead letter starts again: queued, attempt 1, whatever its status said.
        var redriven = await deadLetters.RedriveAsync(worker, filter, async e =>
        {
            await publisher.PublishAsync(e.Envelope, e.Body, cancellationToken);
            statuses.Record(EventStatusUpdate.Queued(e.Envelope, restartedAt: DateTimeOffset.UtcNow));
        }, cancellationToken);
        return TypedResults.Ok(new RedrivenResponse(redriven));
    }

    private static async Task<Results<Ok<DiscardedResponse>, ProblemHttpResult>> DiscardAsync([AsParameters] WorkerRoute route, HttpRequest request,
        WorkerCommands commands, DeadLetterStore deadLetters, CancellationToken cancellationToken)
    {
        if (await commands.MissingAsync(route, cancellationToken) is { } missing) return missing;
        if (ParseFilter(request.Query, out var filter) is { } badFilter) return badFilter;
        return TypedResults.Ok(new DiscardedResponse(await deadLetters.DiscardAsync(route.Canvas, route.Worker, filter, cancellationToken)));
    }

    /// <summary>The search filters (q, reason, from, to) shared by the list, redrive and discard; a problem naming the parameter when one is bad.</summary>
    private static ProblemHttpResult? ParseFilter(IQueryCollection query, out DeadLetterFilter filter)
    {
        filter = new DeadLetterFilter();
        foreach (var name in new[] { "q", "reason" })
        {
            if (!query.TryGetValue(name, out var values)) continue;
            var text = values.ToString();
            if (values.Count != 1 || text.Length is 0 or > MaxSearchLength)
                return Problems.BadRequest($"\"{name}\" must be given once, 1 to {MaxSearchLength} characters.");
            filter = name == "q" ? filter with { Q = text } : filter with { Reason = text };
        }
        foreach (var name in new[] { "from", "to" })
        {
            if (!query.TryGetValue(name, out var values)) continue;
            // ISO 8601 only (TryParse alone takes "1/2/2026" too); without an offset it is UTC.
            if (values.Count != 1 || !IsoTime().IsMatch(values.ToString()) || !DateTimeOffset.TryParse(values.ToString(), System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
                return Problems.BadRequest($"\"{name}\" must be an ISO 8601 date or date and time, such as 2026-01-31T12:00:00Z.");
            filter = name == "from" ? filter with { From = at } : filter with { To = at };
        }
        return filter is { From: { } f, To: { } t } && f > t ? Problems.BadRequest("\"from\" must not be after \"to\".") : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})?)?$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex IsoTime();
}
