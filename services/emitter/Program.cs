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
builder.Services.AddSingleton<EventEmitter>();
builder.Services.AddSingleton<CanvasEmitRate>();
builder.Services.AddControlPlane(options, bus => bus.AddConsumer<CanvasChangedConsumer>());

var app = builder.Build();
app.UseWorkqDefaults();
app.UseEmitMetrics();
app.MapEmitApi();
app.Run();
