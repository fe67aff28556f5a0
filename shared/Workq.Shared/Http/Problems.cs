using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Workq.Shared.Http;

/// <summary>
/// The problem+json answers every service gives (RFC 9457), so errors read the same everywhere. Typed, so that handlers
/// can name them in <c>Results&lt;...&gt;</c> unions; their statuses reach the OpenAPI document as ProducesProblem
/// metadata.
/// </summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            title: "Bad request",
            extensions: extensions);

    public static ProblemHttpResult BadName(string what, string? value) =>
        BadRequest($"Invalid {what} name '{Truncate(value)}': use {Names.Rule}.");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    /// <summary>
    /// 413 naming the limit that was passed and where it is set (a setting, or the fixed batch limit).
    /// </summary>
    public static ProblemHttpResult TooLarge(int limit, string setBy) =>
        TypedResults.Problem(
            detail: $"The body is larger than the limit of {limit} bytes ({setBy}).",
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Payload too large");

    public static ProblemHttpResult CodeTooLarge(int limit) =>
        TypedResults.Problem(
            detail: $"\"code\" is larger than the limit of {limit} bytes of UTF-8 (WORKQ_MAX_CODE_BYTES).",
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Payload too large");

    /// <summary>429 with Retry-After: whole seconds, rounded up, at least 1.</summary>
    public static RetryAfterResult TooManyRequests(string detail, TimeSpan retryAfter) =>
        new RetryAfterResult(TypedResults.Problem(
            detail: detail,
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests"),
            Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)));

    public static RetryAfterResult Unavailable(string detail, int retryAfterSeconds) =>
        new RetryAfterResult(TypedResults.Problem(
            detail: detail,
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Service unavailable"), retryAfterSeconds);

    internal static string Truncate(string? value)
        => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";

    /// <summary>A problem answered with a Retry-After header (429, 503).</summary>
    public sealed class RetryAfterResult(ProblemHttpResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(
                System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
