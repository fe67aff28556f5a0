using Workq.Shared.Telemetry;

namespace Workq.Emitter.Emitting;

/// <summary>Counts emit API requests by status, and the rejected ones (4xx and 5xx) apart.</summary>
public static class EmitMetrics
{
    public static WebApplication UseEmitMetrics(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var status = StatusCodes.Status500InternalServerError;
            try
            {
                await next(context);
                status = context.Response.StatusCode;
            }
            finally
            {
                // Probes and the like are not emits.
                if (context.Request.Path.StartsWithSegments("/v1")) Record(status);
            }
        });
        return app;
    }

    private static void Record(int status)
    {
        var tags = new System.Diagnostics.TagList { { "http.response.status_code", status } };
        WorkqDiagnostics.EmitRequests.Add(1, tags);
        if (status >= 400) WorkqDiagnostics.EmitRejections.Add(1, tags);
    }
}
