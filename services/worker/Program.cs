using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Storage;
using Workq.Traces.MongoDb;
using Workq.Worker.Consuming;
using Workq.Worker.Emitting;
using Workq.Worker.Instance;
using Workq.Worker.Isolation;
using Workq.Worker.Recording;
using Workq.Worker.Settling;

// With WORKQ_ISOLATION=none handler code runs in this process: a catastrophic regular expression stops after a second.
AppContext.SetData("REGEX_DEFAULT_MATCH_TIMEOUT", TimeSpan.FromSeconds(1));

var builder = WebApplication.CreateBuilder(args);
var options = builder.AddWorkqDefaults(defaultPort: 8083);
builder.Services.AddSingleton<CancelledEventStore>();
builder.Services.AddSingleton<ScheduledEventStore>();
builder.Services.AddSingleton<InstanceStore>();
builder.Services.AddTraceStore(options);
await builder.AddHandlerHostAsync(options);
builder.Services.AddSingleton<EventRunner>();
builder.Services.AddSingleton<RetryScheduler>();
builder.Services.AddSingleton<CancelledEvents>();
builder.Services.AddSingleton<LoopGuard>();
builder.Services.AddSingleton<ConsumerLoads>();
builder.Services.AddSingleton<RateBuckets>();
builder.Services.AddSingleton<ConsumerServices>();
// The recorder is registered first so that it stops last and writes what the consumers finished.
builder.Services.AddSingleton<RunRecorder>();
builder.Services.AddEventStatus();
builder.Services.AddHostedService(sp => sp.GetRequiredService<RunRecorder>());
builder.Services.AddSingleton<InstanceHeartbeat>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<InstanceHeartbeat>());
builder.Services.AddHostedService<LoadReporter>();
builder.Services.AddSingleton<WorkerSupervisor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerSupervisor>());
builder.Services.AddControlPlane(options, bus =>
{
    bus.AddConsumer<WorkerChangedConsumer>();
    bus.AddConsumer<EventCancelledConsumer>();
});

var app = builder.Build();
app.UseWorkqDefaults();
app.Run();
