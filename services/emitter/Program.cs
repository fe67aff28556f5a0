using Scalar.AspNetCore;
using Workq.Emitter.Apis;
using Workq.Emitter.Emitting;
using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Http;
using Workq.Shared.Storage;

var builder = WebApplication.CreateBuilder(args);
var options = builder.AddWorkqDefaults(defaultPort: 8081);
builder.RequireAdminToken(options);
builder.Services.AddSingleton<IdempotencyStore>();
builder.Services.AddSingleton<ScheduledEventStore>();
builder.Services.AddEventStatus();
builder.Services.AddSingleton<EventEmitter>();
builder.Services.AddSingleton<CanvasEmitRate>();
builder.Services.AddOpenApi();
builder.Services.AddControlPlane(options, bus => bus.AddConsumer<CanvasChangedConsumer>());

var app = builder.Build();
app.UseWorkqDefaults();
app.UseEmitMetrics();
// The OpenAPI document and its rendered page are public, like /healthz: they describe the routes, not any canvas.
app.MapOpenApi();
app.MapScalarApiReference(scalar => scalar.WithTitle("Workq emit API").DisableDefaultFonts());
app.MapCanvasGroup().MapEmitApi();
app.Run();
