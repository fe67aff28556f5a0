using Scalar.AspNetCore;
using Workq.Emitter.Apis;
using Workq.Shared.Http;

namespace Workq.Emitter;

/// <summary>The emitter service's routes: the OpenAPI document and the canvas's emit API.</summary>
public static class EmitterApi
{
    public static WebApplication MapEmitterApi(this WebApplication app)
    {
        // The OpenAPI document and its rendered page are public, like /healthz: they describe the routes, not any
        // canvas.
        app.MapOpenApi();
        app.MapScalarApiReference(scalar => scalar.WithTitle("Workq emit API").DisableDefaultFonts());
        app.MapCanvasGroup().MapEmitApi().MapBatchesApi();
        return app;
    }
}
