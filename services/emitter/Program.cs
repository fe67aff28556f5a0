using Workq.Emitter;
using Workq.Emitter.Emitting;
using Workq.Shared.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddEmitterServices();

var app = builder.Build();
app.UseWorkqDefaults();
app.UseEmitMetrics();
app.MapEmitterApi();
app.Run();
