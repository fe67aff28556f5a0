using Microsoft.AspNetCore.Http;

namespace Workq.Shared.Http;

/// <summary>The problem+json answers every service gives (RFC 9457), so errors read the same everywhere.</summary>
public static class Problems
{
    public static IResult BadRequest(string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request", extensions: extensions);

    public static IResult BadName(string what, string? value) =>
        BadRequest($"Invalid {what} name '{Truncate(value)}': use {Names.Rule}.");

    public static IResult NotFound(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static IResult Conflict(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static IResult Unauthorized(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");

    public static IResult Forbidden(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    /// <summary>413 naming the limit that was passed and where it is set (a setting, or the fixed batch limit).</summary>
    public static IResult TooLarge(int limit, string setBy) =>
        Results.Problem(detail: $"The body is larger than the limit of {limit} bytes ({setBy}).", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large");

    public static IResult CodeTooLarge(int limit) =>
        Results.Problem(detail: $"\"code\" is larger than the limit of {limit} bytes of UTF-8 (WORKQ_MAX_CODE_BYTES).", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large");

    /// <summary>429 with Retry-After: whole seconds, rounded up, at least 1.</summary>
    public static IResult TooManyRequests(string detail, TimeSpan retryAfter) =>
        new RetryAfterResult(Results.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests"),
            Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)));

    public static IResult Unavailable(string detail, int retryAfterSeconds) =>
        new RetryAfterResult(Results.Problem(detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable"), retryAfterSeconds);

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";

    private sealed class RetryAfterResult(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
