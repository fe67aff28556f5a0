using Workq.Shared.Hosting;
using Workq.Worker;

// With WORKQ_ISOLATION=none handler code runs in this process: a catastrophic regular expression stops after a second.
AppContext.SetData("REGEX_DEFAULT_MATCH_TIMEOUT", TimeSpan.FromSeconds(1));

var builder = WebApplication.CreateBuilder(args);
await builder.AddWorkerServicesAsync();

var app = builder.Build();
app.UseWorkqDefaults();
app.Run();
