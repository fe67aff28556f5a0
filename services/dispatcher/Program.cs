using Workq.Dispatcher;
using Workq.Shared.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddDispatcherServices();

var app = builder.Build();
app.UseWorkqDefaults();
app.Run();
