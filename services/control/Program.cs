using Workq.Control;
using Workq.Shared.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddControlServices();

var app = builder.Build();
app.UseWorkqDefaults();
app.UseDashboard();
app.MapControlApi();
app.Run();
