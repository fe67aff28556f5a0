using System.Diagnostics.Metrics;
using Workq.Shared.Telemetry;

namespace Workq.Tests.Observability;

[Collection(ObservedCollection.Name)]
public sealed class MetricsTests(ObservedCluster observed)
{
    private WorkqCluster Cluster => observed.Cluster;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_services_export_the_Workq_instruments_with_canvas_worker_and_outcome()
    {
        var (canvas, _) = await Cluster.CreateCanvasAsync("metrics");
        await Cluster.DeployAsync(canvas, "ok", "return 1;");
        await Cluster.DeployAsync(canvas, "boom", """throw new System.InvalidOperationException("no");""");
        await Cluster.DeployAsync(canvas, "idle", "return 0;");
        await Cluster.JsonAsync(
            HttpMethod.Post,
            Cluster.ControlUrl($"/v1/canvases/{canvas}/workers/idle/pause"),
            Cluster.AdminToken);
        await Cluster.EventuallyAsync(() => Cluster.Rabbit.ConsumersAsync(Cluster.VirtualHost),
            c => c.GetValueOrDefault($"workq.worker.{canvas}.ok") > 0
                && c.GetValueOrDefault($"workq.worker.{canvas}.boom") > 0, Wait, "consumers");
        await Cluster.EmitBatchAsync(
            canvas,
            [("ok", "{}"), ("ok", "{}"), ("boom", "{}"), ("idle", "{}"), ("idle", "{}")]);
        using (var rejected = await Cluster.SendAsync(
            HttpMethod.Post,
            Cluster.EmitUrl($"/v1/canvases/{canvas}/workers/ok/events"),
            "wrong-token",
            "{}"))
            Assert.Equal(401, (int)rejected.StatusCode);

        bool Has(
            string metric,
            string? worker,
            string? outcome,
            double atLeast) => observed.Receiver.Points.Any(p => p.Metric == metric
            && (worker is null || (p.Attributes.GetValueOrDefault("workq.canvas") == canvas
                && p.Attributes.GetValueOrDefault("workq.worker") == worker))
            && (outcome is null || p.Attributes.GetValueOrDefault("workq.outcome") == outcome) && p.Value >= atLeast);
        await Cluster.EventuallyAsync(() => Task.FromResult(observed.Receiver.Points.Count), _ =>
                Has("workq.events.processed", "ok", "completed", 2)
                    && Has("workq.events.processed", "boom", "failed", 1)
                    && Has("workq.events.failed", "boom", null, 1)
                    && Has("workq.handler.duration", "ok", "completed", 2)
                    && Has("workq.queue.wait", "ok", null, 2)
                    && Has("workq.events.in_flight", "ok", null, 0)
                    && Has("workq.queue.depth", "idle", null, 2)
                    && Has("workq.emit.requests", null, null, 1)
                    && Has(
                    "workq.emit.rejections",
                    null,
                    null,
                    1),
            Wait, "the Workq metrics: " + string.Join(", ", observed.Receiver.Points.Select(p => p.Metric).Distinct()));
        Assert.Contains(observed.Receiver.Points, p => p.Metric == "workq.emit.rejections"
            && p.Attributes.GetValueOrDefault("http.response.status_code") == "401");
    }

    [Fact]
    public void Instruments_are_registered_on_the_Workq_meter_and_move()
    {
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WorkqDiagnostics.Name) l
            .EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (seen) seen[instrument.Name]
            = seen.GetValueOrDefault(instrument.Name) + value;
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            lock (seen) seen[instrument.Name]
            = seen.GetValueOrDefault(instrument.Name) + value;
        });
        listener.Start();

        using (WorkqDiagnostics.TrackInFlight("unit", "w", () => 3))
        {
            WorkqDiagnostics.DeadLettered.Add(1, WorkqDiagnostics.Tags("unit", "w"));
            WorkqDiagnostics.TimedOut.Add(1, WorkqDiagnostics.Tags("unit", "w"));
            listener.RecordObservableInstruments();
        }
        lock (seen)
        {
            Assert.True(seen.GetValueOrDefault("workq.events.in_flight") >= 3);
            Assert.True(seen.GetValueOrDefault("workq.events.dead_lettered") >= 1);
            Assert.True(seen.GetValueOrDefault("workq.events.timed_out") >= 1);
        }
    }
}
