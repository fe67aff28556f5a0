using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Workq.Shared.Auth;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Shared.Telemetry;

namespace Workq.Shared.Hosting;

/// <summary>
/// What every Workq service has: options, logging, the database and broker connections, problem details, health.
/// </summary>
public static class WorkqDefaults
{
    public static WorkqOptions AddWorkqDefaults(this WebApplicationBuilder builder, int defaultPort)
    {
        WorkqOptions options;
        try
        {
            options = builder.Services.AddWorkqOptions(builder.Configuration, defaultPort);
        }
        catch (InvalidOperationException e)
        {
            RefuseToStart(builder, e.Message);
            throw;
        }
        builder.WebHost.UseUrls($"http://{options.Service.Host}:{options.Service.Port}");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ConfigureEndpointDefaults(listen => listen.UseRejectionProblems());
        });
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.UseUtcTimestamp = true;
            console.IncludeScopes = true;
        });
        builder.AddWorkqTelemetry();

        var services = builder.Services;
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = ProblemDefaults.Apply);
        services.AddExceptionHandler<WorkqExceptionHandler>();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonDefaults.Web.PropertyNamingPolicy;
            // Answers carry stored JSON (an event up to the emitter's depth) inside a few levels of their own.
            json.SerializerOptions.MaxDepth = JsonText.MaxDepth;
        });

        services.AddSingleton(_ => Postgres(options.Service.Postgres));
        services.AddSingleton<BrokerConnection>();
        services.AddSingleton<Topology>();
        services.AddSingleton<EventPublisher>();
        // Keyed, high and low events need their worker's on-demand queues, whichever service publishes them.
        services.AddSingleton<OnDemandQueues>();
        services.AddSingleton<WorkerStore>();
        // The canvases' tokens, for every route that authenticates (/metrics on every service); each service
        // registers the other stores it uses in its Program.cs.
        services.AddSingleton<CanvasStore>();
        // Every service's internal consumers (the control plane's, the flushes) quarantine what they give up on.
        services.AddSingleton<QuarantineStore>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CanvasDirectory>();
        services.AddSingleton<Http.AccessControl>();
        services.AddWorkqHealthChecks();
        services.AddHostedService<SchemaInitializer>();
        return options;
    }

    /// <summary>
    /// For the services that authenticate requests: outside Development, no admin token, the development
    /// token or a short one stops the service before it listens, with the reason on one line.
    /// </summary>
    /// <summary>
    /// The services' PostgreSQL. The statements of the hot paths (status and finish flushes, group commits) are the
    /// same few texts over and over: each connection prepares the ones it ran twice, so PostgreSQL stops parsing and
    /// planning them per execution (docs/DESIGN.md "Prepared statements"). A connection string that sets Max Auto
    /// Prepare keeps its own.
    /// </summary>
    private static NpgsqlDataSource Postgres(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0) builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        return builder.Build();
    }

    public static void RequireAdminToken(this WebApplicationBuilder builder, ServiceOptions options)
    {
        if (!builder.Environment.IsDevelopment()
            && options.AdminTokenProblem() is { } problem) RefuseToStart(builder, problem);
    }

    /// <summary>
    /// One line on stderr and exit code 78 (EX_CONFIG): a configuration mistake is not a crash with a stack trace.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void RefuseToStart(this WebApplicationBuilder builder, string why)
    {
        Console.Error.WriteLine($"{builder.Environment.ApplicationName} refuses to start: {why}");
        Environment.Exit(78);
    }

    public static WebApplication UseWorkqDefaults(this WebApplication app)
    {
        RenamedSetting.LogWarnings(app.Configuration, app.Logger);
        app.Services.SubscribeRejectionProblems();
        app.UseWorkqTelemetry();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapWorkqHealthChecks();
        return app;
    }
}
