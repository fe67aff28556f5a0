using Scalar.AspNetCore;
using Workq.Control.Apis;
using Workq.Control.Batches;
using Workq.Control.Events;
using Workq.Shared.Http;

namespace Workq.Control;

/// <summary>The control service's routes: the OpenAPI document, the admin and the canvas APIs.</summary>
public static class ControlApi
{
    public static WebApplication MapControlApi(this WebApplication app)
    {
        // The OpenAPI document and its rendered page are public, like /healthz: they describe the routes, not any
        // canvas.
        app.MapOpenApi();
        app.MapScalarApiReference(scalar => scalar.WithTitle("Workq control API").DisableDefaultFonts());
        app.MapAdminGroup().MapCanvasesApi().MapInstancesApi().MapQuarantineApi();
        app.MapCanvasGroup()
            .MapWorkersApi().MapUnhandledApi().MapQueueApi().MapCronsApi()
            .MapLookupApi().MapMetricsApi().MapEventsApi().MapEventControlApi().MapBatchesApi();
        return app;
    }
}
