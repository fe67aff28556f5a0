using Scalar.AspNetCore;
using Workq.Control;
using Workq.Control.Apis;
using Workq.Control.Canvases;
using Workq.Control.Compiling;
using Workq.Control.Deploying;
using Workq.Control.Events;
using Workq.Control.Stats;
using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Http;
using Workq.Shared.Scripting;
using Workq.Shared.Storage;
using Workq.Traces.MongoDb;

var builder = WebApplication.CreateBuilder(args);
var options = builder.AddWorkqDefaults(defaultPort: 8080);
builder.RequireAdminToken(options);
builder.Services.AddSingleton<UnhandledStore>();
builder.Services.AddSingleton<DeadLetterStore>();
builder.Services.AddSingleton<MetricsStore>();
builder.Services.AddSingleton<CancelledEventStore>();
builder.Services.AddSingleton<InstanceStore>();
builder.Services.AddSingleton<CronStore>();
builder.Services.AddSingleton<ScheduledEventStore>();
builder.Services.AddEventStatus();
builder.Services.AddSingleton<EventStatusWaiters>();
builder.Services.AddHostedService(services => services.GetRequiredService<EventStatusWaiters>());
builder.Services.AddTraceStore(options);
builder.Services.AddDeletions();
// Handler code is compiled in separate processes that can be killed (see docs/DESIGN.md, "Handler code").
builder.Services.AddSingleton(CompilerPoolOptions.From(options));
builder.Services.AddSingleton<CompilerPool>();
builder.Services.AddHostedService(services => services.GetRequiredService<CompilerPool>());
builder.Services.AddHostedService<AssemblyBackfill>();
builder.Services.AddSingleton<QueueProbe>();
builder.Services.AddSingleton<LiveQueueCounts>();
builder.Services.AddHostedService(services => services.GetRequiredService<LiveQueueCounts>());
builder.Services.AddSingleton<InstanceLoads>();
builder.Services.AddSingleton<WorkerViews>();
builder.Services.AddSingleton<QueueStats>();
builder.Services.AddHostedService<QueueDepthGauge>();
builder.Services.AddSingleton<WorkerCommands>();
builder.Services.AddSingleton<WorkerDeployment>();
builder.Services.AddSingleton<QuarantineRedrive>();
builder.Services.AddHostedService<QuarantineGauge>();
builder.Services.AddOpenApi();
builder.Services.AddSingleton<Convergence>();
builder.Services.AddControlPlane(options, bus =>
{
    bus.AddConsumer<CanvasChangedConsumer>();
    bus.AddConsumer<WorkerInstanceLoadConsumer>();
});

var app = builder.Build();
app.UseWorkqDefaults();
app.UseDashboard();
// The OpenAPI document and its rendered page are public, like /healthz: they describe the routes, not any canvas.
app.MapOpenApi();
app.MapScalarApiReference(scalar => scalar.WithTitle("Workq control API").DisableDefaultFonts());
app.MapAdminGroup().MapCanvasesApi().MapInstancesApi().MapQuarantineApi();
app.MapCanvasGroup().MapWorkersApi().MapUnhandledApi().MapQueueApi().MapCronsApi().MapLookupApi().MapMetricsApi().MapEventsApi();
app.Run();
