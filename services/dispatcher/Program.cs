using Workq.Dispatcher.Crons;
using Workq.Dispatcher.Metrics;
using Workq.Dispatcher.Parking;
using Workq.Dispatcher.Reconciling;
using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

var builder = WebApplication.CreateBuilder(args);
var options = builder.AddWorkqDefaults(defaultPort: 8082);
builder.Services.AddSingleton<WorkerStore>();
builder.Services.AddSingleton<UnhandledStore>();
builder.Services.AddSingleton<DeadLetterStore>();
builder.Services.AddSingleton<MetricsStore>();
builder.Services.AddSingleton<CronStore>();
builder.Services.AddHostedService<TopologyReconciler>();
builder.Services.AddHostedService<ParkingConsumer>();
builder.Services.AddSingleton<UnhandledReplayer>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<UnhandledReplayer>());
builder.Services.AddSingleton<PublishEvent>(sp => sp.GetRequiredService<EventPublisher>().PublishAsync);
builder.Services.AddSingleton<CronFirer>();
builder.Services.AddHostedService<CronLoop>();
builder.Services.AddHostedService<MetricsRollup>();
builder.Services.AddControlPlane(options, bus => bus.AddConsumer<ReplayOnWorkerChanged>());

var app = builder.Build();
app.UseWorkqDefaults();
app.Run();
