using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Workq.Shared.Hosting;

/// <summary>
/// /healthz (alive: the process answers) and /readyz (ready: RabbitMQ and PostgreSQL both answer), on ASP.NET Core's
/// health checks. Not ready is a 503 problem naming what is missing, as every other error; ready is "ready", and a line
/// per fact of the checks tagged <see cref="Facts"/>.
/// </summary>
public static class HealthChecks
{
    /// <summary>
    /// The tag of the checks /readyz runs; a store that a service may be configured with adds its own.
    /// </summary>
    public const string Ready = "ready";
    /// <summary>
    /// The tag of the checks whose data /readyz prints when ready, a line "key: value" each (the worker's sandbox).
    /// </summary>
    public const string Facts = "facts";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public static IServiceCollection AddWorkqHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<BrokerHealthCheck>("rabbitmq", tags: [Ready], timeout: Timeout)
            .AddCheck<DatabaseHealthCheck>("postgresql", tags: [Ready], timeout: Timeout);
        return services;
    }

    public static IEndpointRouteBuilder MapWorkqHealthChecks(this IEndpointRouteBuilder app)
    {
        // GET only, as before: another method is a 405 problem (with Allow: GET), not a health answer.
        var reads = new HttpMethodMetadata([HttpMethods.Get]);
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithMetadata(reads);
        app.MapHealthChecks(
            "/readyz",
            new HealthCheckOptions
            {
                Predicate = check => check.Tags.Contains(Ready),
                ResponseWriter = WriteAsync
            }).WithMetadata(reads);
        return app;
    }

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        if (report.Status == HealthStatus.Healthy)
        {
            http.Response.ContentType = "text/plain";
            if (http.Request.Path == "/healthz") return http.Response.WriteAsync("ok");
            // "ready", then a line per fact a check tagged Facts reports (the worker's "sandbox: namespaces+seccomp").
            var facts = report.Entries.Values.Where(e => e.Tags.Contains(Facts)).SelectMany(e => e.Data)
                .Select(d => $"\n{d.Key}: {d.Value}");
            return http.Response.WriteAsync("ready" + string.Concat(facts));
        }
        var missing = string.Join("; ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
            .Select(e => e.Value.Description
                ?? e.Value.Exception?.Message ?? $"{e.Key} did not answer within {Timeout.TotalSeconds:0} s"));
        return Results.Problem(detail: missing, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready")
            .ExecuteAsync(http);
    }
}
