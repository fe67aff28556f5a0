using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RabbitMQ.Client;

namespace Workq.Shared.Telemetry;

/// <summary>
/// OpenTelemetry export over OTLP, configured only by the standard OTEL_* variables. Without
/// OTEL_EXPORTER_OTLP_ENDPOINT no provider is built, so nothing listens and nothing is exported.
/// </summary>
public static class WorkqTelemetry
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Other libraries' sources that belong in a Workq trace (they instrument themselves).</summary>
    public static readonly string[] ActivitySources =
    [
        WorkqDiagnostics.Name,
        "Microsoft.AspNetCore",
        "System.Net.Http",
        RabbitMQActivitySource.PublisherSourceName,
        RabbitMQActivitySource.SubscriberSourceName,
        "MassTransit",
    ];

    public static readonly string[] Meters =
    [
        WorkqDiagnostics.Name,
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Net.Http",
        "System.Runtime",
        "Npgsql",
    ];

    public static void AddWorkqTelemetry(this WebApplicationBuilder builder)
    {
        // Every log line carries the trace and span of the work it belongs to (as a scope).
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (string.IsNullOrWhiteSpace(builder.Configuration[EndpointVariable])) return;

        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by the detector added last, win over the default name.
        var serviceName = "workq-" + (Assembly.GetEntryAssembly()?.GetName().Name ?? "service").Replace("Workq.", "").ToLowerInvariant();
        void Resource(ResourceBuilder resource) => resource.AddService(serviceName).AddEnvironmentVariableDetector();

        var tracing = Sdk.CreateTracerProviderBuilder().ConfigureResource(Resource).AddSource(ActivitySources).AddOtlpExporter().Build();
        var metrics = Sdk.CreateMeterProviderBuilder().ConfigureResource(Resource).AddMeter(Meters).AddOtlpExporter().Build();
        builder.Logging.AddOpenTelemetry(logging =>
        {
            var resource = ResourceBuilder.CreateEmpty();
            Resource(resource);
            logging.SetResourceBuilder(resource);
            logging.IncludeFormattedMessage = true;
            logging.AddOtlpExporter();
        });
        builder.Services.AddSingleton(new TelemetryProviders(tracing, metrics));
    }

    /// <summary>Flushes and disposes the providers once the host has stopped, after every hosted service's last work.</summary>
    public static void UseWorkqTelemetry(this WebApplication app)
    {
        if (app.Services.GetService<TelemetryProviders>() is { } providers) app.Lifetime.ApplicationStopped.Register(providers.Dispose);
    }
}

public sealed class TelemetryProviders(TracerProvider? tracing, MeterProvider? metrics) : IDisposable
{
    public void Dispose()
    {
        tracing?.Dispose();
        metrics?.Dispose();
    }
}
