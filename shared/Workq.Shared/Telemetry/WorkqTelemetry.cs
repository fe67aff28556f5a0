using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RabbitMQ.Client;
using Workq.Shared.Http;

namespace Workq.Shared.Telemetry;

/// <summary>
/// OpenTelemetry on the hosting package (<c>services.AddOpenTelemetry()</c>). Metrics always: every service serves them
/// at <c>/metrics</c> for Prometheus to scrape (admin token required: the labels name every canvas and worker). OTLP
/// export of traces, metrics and logs is switched on and configured by the standard OTEL_* variables
/// (OTEL_EXPORTER_OTLP_ENDPOINT). The providers are flushed and disposed with the host, after every hosted service's
/// last work.
/// </summary>
public static class WorkqTelemetry
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ScrapePath = "/metrics";

    /// <summary>Other libraries' sources that belong in a Workq trace (they instrument themselves).</summary>
    public static readonly string[] ActivitySources =
    [
        WorkqDiagnostics.Name,
        RabbitMQActivitySource.PublisherSourceName,
        RabbitMQActivitySource.SubscriberSourceName,
        "MassTransit",
    ];

    public static void AddWorkqTelemetry(this WebApplicationBuilder builder)
    {
        // Every log line carries the trace and span of the work it belongs to (as a scope).
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId
            | ActivityTrackingOptions.SpanId);
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[EndpointVariable]);

        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by the detector added last, win over the default name.
        var serviceName = "workq-"
            + (Assembly.GetEntryAssembly()?.GetName().Name ?? "service").Replace("Workq.", "").ToLowerInvariant();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName).AddEnvironmentVariableDetector())
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(WorkqDiagnostics.Name)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddPrometheusExporter();
                if (otlp) metrics.AddOtlpExporter();
            });
        if (!otlp) return;
        telemetry
            .WithTracing(tracing => tracing.AddSource(ActivitySources).AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter())
            .WithLogging(logging => logging.AddOtlpExporter(), options => options.IncludeFormattedMessage = true);
    }

    /// <summary>The Prometheus scrape endpoint, for the admin token only.</summary>
    public static void UseWorkqTelemetry(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path == ScrapePath, scrape => scrape.Use(async (http, next) =>
        {
            if (await http.RequestServices.GetRequiredService<AccessControl>()
                .AuthorizeAdminAsync(http) is { } denied) await denied.ExecuteAsync(http);
            else await next(http);
        }));
        app.MapPrometheusScrapingEndpoint(ScrapePath)
            .WithMetadata(new Microsoft.AspNetCore.Routing.HttpMethodMetadata([HttpMethods.Get]));
    }
}
