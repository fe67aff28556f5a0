using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// The quarantine (admin only): what internal consumers gave up on, across canvases, newest first; each message
/// redriven to where it came from, or discarded.
/// </summary>
public static class QuarantineApi
{
    public const int ListBodyBytes = 4_096;
    private static readonly UTF8Encoding StrictUtf8 = new(
        encoderShouldEmitUTF8Identifier: false,
        throwOnInvalidBytes: true);

    public static RouteGroupBuilder MapQuarantineApi(this RouteGroupBuilder admin)
    {
        admin.MapGet("/quarantine", ListAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        admin.MapDelete("/quarantine", DiscardAllAsync).ProducesProblem(StatusCodes.Status400BadRequest);
        admin.MapPost("/quarantine/redrive", RedriveAllAsync).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes
                .Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        admin.MapGet("/quarantine/{id}", GetAsync).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapDelete("/quarantine/{id}", DiscardAsync).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/quarantine/{id}/redrive", RedriveAsync).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return admin;
    }

    /// <summary>
    /// As the dead-letter list: a plain array, the next page in <c>X-Next-Cursor</c> and <c>Link</c> (rel="next").
    /// </summary>
    private static async Task<Results<Ok<IReadOnlyList<QuarantineItem>>, ProblemHttpResult>> ListAsync(
        [AsParameters] QuarantineQuery query, [AsParameters] PageQuery paging, HttpContext http, QuarantineStore store,
        CancellationToken cancellationToken)
    {
        if (query.Parse(out var filter) is { } bad) return bad;
        if (paging.ParseLimit(out var limit) is { } badLimit) return badLimit;
        long? before = null;
        if (paging.Cursor is { } cursorText)
        {
            if (!long.TryParse(
                cursorText,
                System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture,
                out var cursor))
                return PageQuery.BadCursor;
            before = cursor;
        }
        var page = await store.ListAsync(filter, before, limit + 1, ListBodyBytes, cancellationToken);
        var items = page.Take(limit).Select(View).ToList();
        if (page.Count > limit)
            PageQuery.LinkNext(http, items[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return TypedResults.Ok<IReadOnlyList<QuarantineItem>>(items);
    }

    private static async Task<Results<Ok<QuarantineItem>, ProblemHttpResult>> GetAsync(
        string id,
        QuarantineStore store,
        CancellationToken cancellationToken)
    {
        if (ParseId(id, out var number) is { } bad) return bad;
        return await store.GetAsync(number, cancellationToken) is { } message
            ? TypedResults.Ok(View(message))
            : NoSuchItem(number);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DiscardAsync(
        string id,
        QuarantineStore store,
        CancellationToken cancellationToken)
    {
        if (ParseId(id, out var number) is { } bad) return bad;
        return await store.DeleteAsync(number, cancellationToken) ? TypedResults.NoContent() : NoSuchItem(number);
    }

    private static async Task<Results<Ok<DiscardedResponse>, ProblemHttpResult>> DiscardAllAsync(
        [AsParameters] QuarantineQuery query, QuarantineStore store, CancellationToken cancellationToken)
    {
        if (query.Parse(out var filter) is { } bad) return bad;
        return TypedResults.Ok(new DiscardedResponse(await store.DeleteAsync(filter, cancellationToken)));
    }

    private static async Task<Results<Ok<RedrivenResponse>, ProblemHttpResult>> RedriveAsync(
        string id,
        QuarantineStore store,
        QuarantineRedrive redrive,
        CancellationToken cancellationToken)
    {
        if (ParseId(id, out var number) is { } bad) return bad;
        try
        {
            return await store.RedriveAsync(
                number,
                message => redrive.RedriveAsync(message, cancellationToken),
                cancellationToken)
                ? TypedResults.Ok(new RedrivenResponse(1))
                : NoSuchItem(number);
        }
        catch (NotRedrivableException e)
        {
            return Problems.Conflict(e.Message);
        }
    }

    /// <summary>
    /// The redrivable messages the filter selects, oldest first; one that cannot be redriven stops it (those before
    /// stay redriven).
    /// </summary>
    private static async Task<Results<Ok<RedrivenResponse>, ProblemHttpResult>> RedriveAllAsync(
        [AsParameters] QuarantineQuery query, QuarantineStore store, QuarantineRedrive redrive,
            CancellationToken cancellationToken)
    {
        if (query.Parse(out var filter) is { } bad) return bad;
        try
        {
            return TypedResults.Ok(new RedrivenResponse(await store.RedriveAsync(
                filter,
                message => redrive.RedriveAsync(message, cancellationToken),
                cancellationToken)));
        }
        catch (NotRedrivableException e)
        {
            return Problems.Conflict(e.Message);
        }
    }

    private static ProblemHttpResult NoSuchItem(long id)
        => Problems.NotFound($"There is no quarantined message {id} (redriven or discarded already?).");

    private static ProblemHttpResult? ParseId(string text, out long id) =>
        long.TryParse(
            text,
            System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture,
            out id) && id > 0
            ? null
            : Problems.BadRequest(
                $"'{(text.Length <= 40 ? text : text[..40] + "…")}' is not a quarantine id (a whole number).");

    private static QuarantineItem View(QuarantinedMessage message)
    {
        var truncated = message.Body.Length < message.BodyBytes;
        var (body, encoding) = Text(message.Body, truncated);
        return new QuarantineItem(
            message.Id,
            message.Source,
            message.Queue,
            message.Canvas,
            message.Worker,
            message.EventId,
            message.Error,
            message.Attempts,
            message.FirstFailedAt,
            message.QuarantinedAt,
            message.Redrive.ToString()
                .ToLowerInvariant(),
            message.Exchange,
            message.RoutingKey,
            message.BodyBytes,
            body,
            encoding,
            truncated,
            message.Properties);
    }

    /// <summary>
    /// UTF-8 text, or base64 when it is not (a cut body may end inside a character: up to three bytes are let go).
    /// </summary>
    private static (string Body, string Encoding) Text(byte[] body, bool truncated)
    {
        for (var cut = 0; cut <= (truncated ? Math.Min(3, body.Length) : 0); cut++)
        {
            try
            {
                return (StrictUtf8.GetString(body, 0, body.Length - cut), "utf-8");
            }
            catch (DecoderFallbackException)
            {
                // Not UTF-8 (yet): one byte less, or base64.
            }
        }
        return (Convert.ToBase64String(body), "base64");
    }
}
