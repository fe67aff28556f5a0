using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Workq.Shared.Auth;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Shared.Telemetry;

namespace Workq.Shared.Hosting;

/// <summary>What every Workq service has: options, logging, storage, broker, problem details, health.</summary>
public static class WorkqDefaults
{
    public static WorkqOptions AddWorkqDefaults(this WebApplicationBuilder builder, int defaultPort)
    {
        var options = WorkqOptions.From(builder.Configuration, defaultPort);
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.UseUtcTimestamp = true;
            console.IncludeScopes = true;
        });
        builder.AddWorkqTelemetry();

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddProblemDetails();
        services.AddExceptionHandler<WorkqExceptionHandler>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonDefaults.Web.PropertyNamingPolicy);

        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(options.Postgres).Build());
        services.AddSingleton<BrokerConnection>();
        services.AddSingleton<Topology>();
        services.AddSingleton<EventPublisher>();
        services.AddSingleton<CanvasStore>();
        services.AddSingleton<WorkerStore>();
        services.AddSingleton<TraceStore>();
        services.AddSingleton<UnhandledStore>();
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton<CancelledEventStore>();
        services.AddSingleton<InstanceStore>();
        services.AddSingleton<CronStore>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CanvasDirectory>();
        services.AddSingleton<Readiness>();
        services.AddHostedService<SchemaInitializer>();
        return options;
    }

    public static WebApplication UseWorkqDefaults(this WebApplication app)
    {
        app.UseWorkqTelemetry();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (Readiness readiness, CancellationToken cancellationToken) =>
            await readiness.CheckAsync(cancellationToken) is { } problem
                ? Results.Problem(detail: problem, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready")
                : Results.Text("ready"));
        return app;
    }
}
