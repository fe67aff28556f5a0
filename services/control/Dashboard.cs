using Microsoft.Extensions.FileProviders;

namespace Workq.Control;

/// <summary>The operator's dashboard: static files from wwwroot, served at <c>/</c> beside the API.</summary>
public static class Dashboard
{
    // Only this machine's files: the page may not load fonts, scripts or anything else from elsewhere.
    private const string ContentSecurityPolicy =
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public static WebApplication UseDashboard(this WebApplication app)
    {
        // Next to the assembly (copied by the build), so the page is found whatever the working directory is.
        var files = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot"));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                // Revalidate (ETag) every time, so a new deploy of the page is never served stale.
                headers.CacheControl = "no-cache";
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
            },
        });
        return app;
    }
}
