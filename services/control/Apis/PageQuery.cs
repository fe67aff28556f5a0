using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Workq.Shared.Http;

namespace Workq.Control.Apis;

/// <summary>
/// The paging of a list (dead letters, quarantine), bound with <c>[AsParameters]</c> as text. The body stays a plain
/// array; the next page is in the <c>Link</c> (rel="next") and <c>X-Next-Cursor</c> headers, as paged REST lists
/// commonly do.
/// </summary>
public sealed record PageQuery(
    [property: FromQuery(Name = "limit"), ParsedAs(JsonSchemaType.Integer), Range(1, PageQuery.MaxLimit)]
    [property: Description("Items per page, default 100.")]
    string? Limit,
    [property: FromQuery(Name = "cursor")]
    [property: Description("Where the page starts: X-Next-Cursor of the previous page.")]
    string? Cursor)
{
    public const int DefaultLimit = 100, MaxLimit = 1_000;

    /// <summary>The answer to a cursor that does not decode.</summary>
    public static ProblemHttpResult BadCursor => Problems.BadRequest(
        "\"cursor\" is not a cursor this service gave out (take it from X-Next-Cursor or the Link header).");

    /// <summary>The page size (<see cref="DefaultLimit"/> when not given), or the problem with <c>limit</c>.</summary>
    public ProblemHttpResult? ParseLimit(out int limit)
    {
        limit = DefaultLimit;
        if (Limit is null) return null;
        return int.TryParse(Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit)
            && limit is >= 1 and <= MaxLimit
            ? null
            : Problems.BadRequest($"\"limit\" must be a whole number from 1 to {MaxLimit}.");
    }

    /// <summary>
    /// Points to the next page: <c>X-Next-Cursor</c>, and a <c>Link</c> to the request with that cursor in place of its
    /// own.
    /// </summary>
    public static void LinkNext(HttpContext http, string cursor)
    {
        var query = QueryString.Create(http.Request.Query.Where(p => p.Key != "cursor")
            .Select(p => KeyValuePair.Create(p.Key, (string?)p.Value.ToString()))
            .Append(KeyValuePair.Create("cursor", (string?)cursor)));
        http.Response.Headers["X-Next-Cursor"] = cursor;
        http.Response.Headers.Link = $"<{http.Request.PathBase}{http.Request.Path}{query}>; rel=\"next\"";
    }
}
