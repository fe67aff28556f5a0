using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Shared.Hosting;

/// <summary>
/// Turns the exceptions a request can meet into problem+json with the right status: bad input is a 4xx, a missing
/// dependency a
/// 503. The routes validate what they take before it reaches PostgreSQL; what PostgreSQL still refuses as data
///      (SQLSTATE
/// class 22, a value it cannot hold; 54, one past its limits) or as conflicting (23) is the request's, not an outage: a
/// 400 or 409, never the 503 that would tell a client to send it again forever.
/// </summary>
public sealed class WorkqExceptionHandler(
    IProblemDetailsService problems,
    ILogger<WorkqExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(
        HttpContext httpContext,
        Exception exception,
        CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "Bad request", bad.Message),
            JsonException json => (StatusCodes
                .Status400BadRequest, "Bad request", $"The body is not valid JSON: {json.Message}"),
            // The caller may retry once the worker has drained: a 429, not a failure of ours.
            QueueFullException full => (StatusCodes.Status429TooManyRequests, "Queue full", full.Message),
            ScheduledFullException full => (StatusCodes.Status429TooManyRequests, "Too many scheduled events", full
                .Message),
            BrokerUnavailableException broker => (StatusCodes.Status503ServiceUnavailable, "Service unavailable", broker
                .Message),
            PostgresException { SqlState: ['2', '2', ..] or ['5', '4', ..] } data =>
                (StatusCodes.Status400BadRequest, "Bad request", $"A value of the request cannot be stored: " +
                    $"{data.MessageText}."),
            PostgresException { SqlState: ['2', '3', ..] } conflict =>
                (StatusCodes.Status409Conflict, "Conflict", $"The request conflicts with what is stored: " +
                    $"{conflict.MessageText}."),
            // Npgsql encodes text as strict UTF-8: a lone surrogate in a value is the request's.
            EncoderFallbackException =>
                (
                    StatusCodes.Status400BadRequest,
                    "Bad request",
                    "The request holds text that is not valid Unicode (a lone surrogate)."),
            // Deleted (or re-created) while the request ran: for the caller, the canvas it was authorized for is no
            // more.
            Storage.BatchConflictException conflict => (StatusCodes.Status409Conflict, "Conflict", conflict.Message),
            Storage.CanvasGoneException gone => (StatusCodes.Status404NotFound, "Not found", gone.Message),
            NpgsqlException or TimeoutException => (StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "The registry database cannot be reached; try again shortly."),
            OperationCanceledException when httpContext.RequestAborted
                .IsCancellationRequested => (499, "Client closed request", "The request was cancelled."),
            _ => (StatusCodes
                .Status500InternalServerError, "Internal error", "An unexpected error occurred; it has been logged."),
        };
        if (status >= 500) logger.LogError(
            exception,
            "{Method} {Path} failed",
            httpContext.Request.Method,
            httpContext.Request.Path);
        // Answered, but a value reached the database unchecked: the route should have refused it with a problem naming
        // the field.
        else if (exception is PostgresException or EncoderFallbackException)
            logger.LogWarning(
                exception,
                "{Method} {Path}: the database refused a value of the request ({Status})",
                httpContext.Request.Method,
                httpContext.Request.Path,
                status);
        if (status == StatusCodes.Status503ServiceUnavailable) httpContext.Response.Headers.RetryAfter = "1";
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
