using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Workq.Tests.Infrastructure;

/// <summary>A quiet Kestrel of the test's own on a free loopback port, for services under test to call.</summary>
public static class LocalServer
{
    public static async Task<(WebApplication App, Uri Url)> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // 127.0.0.2: the one loopback address the test clusters let handler code reach (WORKQ_HANDLER_HTTP_ALLOW).
        builder.WebHost.UseUrls("http://127.0.0.2:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First();
        return (app, new Uri(address + "/"));
    }
}
