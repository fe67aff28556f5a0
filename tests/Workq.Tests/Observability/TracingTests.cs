namespace Workq.Tests.Observability;

[Collection(ObservedCollection.Name)]
public sealed class TracingTests(ObservedCluster observed)
{
    private WorkqCluster Cluster => observed.Cluster;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task One_emit_is_one_trace_through_publish_process_and_the_handlers_own_emits()
    {
        var (canvas, _) = await Cluster.CreateCanvasAsync("otel");
        await Cluster.DeployAsync(canvas, "parent", """await Emit("child", new { n = 1 }); return 1;""");
        await Cluster.DeployAsync(canvas, "child", "return 2;");
        await WaitConsumingAsync(canvas, "parent");
        await WaitConsumingAsync(canvas, "child");

        // The caller's own trace context: everything downstream must join it.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpan = ActivitySpanId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(
            HttpMethod.Post,
            Cluster.EmitUrl($"/v1/canvases/{canvas}/workers/parent/events"))
        {
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", Cluster.AdminToken);
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var response = await Cluster.Http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var parentId = (await response.Content.ReadAsStringAsync()).As<Workq.Client.EmitAccepted>().Id.ToString();

        var childTraces = await Cluster.EventuallyAsync(
            () => Cluster.GetTracesAsync(canvas, "child"),
            t => t.Count > 0,
            Wait,
            "the child's trace");
        // The child can finish (and be flushed) before the parent's own run is recorded.
        var parentTrace = (await Cluster.EventuallyAsync(
            () => Cluster.GetTracesAsync(canvas, "parent"),
            t => t.Count > 0,
            Wait,
            "the parent's trace")).Single();
        Assert.Equal(traceId, parentTrace.TraceId);
        Assert.Equal(traceId, childTraces[0].TraceId);
        var childId = childTraces[0].EventId.ToString();

        // Each service exports its spans in its own batches, on its own schedule: wait for every one the assertions
        // use.
        static bool Has(List<OtlpSpan> spans, int kind, string eventId) =>
            spans.Any(x => x.Scope == "Workq" && x.Kind == kind
                && x.Attributes.GetValueOrDefault("messaging.message.id") == eventId);
        var spans = await Cluster.EventuallyAsync(() => Task.FromResult(
            observed.Receiver.Spans.Where(s => s.TraceId == traceId).ToList()),
            s => s.Any(x => x.Kind == OtlpSpan.Server && x.Service == "workq-emitter")
                 && Has(s, OtlpSpan.Producer, parentId) && Has(s, OtlpSpan.Consumer, parentId)
                 && Has(s, OtlpSpan.Producer, childId) && Has(s, OtlpSpan.Consumer, childId)
                 && s.Any(x => x.Scope == "RabbitMQ.Client.Publisher")
                 && s.Where(x => x.Scope == "Workq" && x.Kind == OtlpSpan.Consumer).SelectMany(x => x.LinkedSpanIds)
                     .Any(linked => observed.Receiver.Spans
                         .Any(d => d.Scope == "RabbitMQ.Client.Subscriber" && d.SpanId == linked)),
            Wait, "every span of the chain");
        var byId = spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        OtlpSpan Workq(
            int kind,
            string eventId) => spans.Single(s => s.Scope == "Workq" && s.Kind == kind
                && s.Attributes.GetValueOrDefault("messaging.message.id") == eventId);
        bool Descends(OtlpSpan span, OtlpSpan ancestor)
        {
            for (var at = span; byId.TryGetValue(at.ParentSpanId, out var up); at = up)
                if (up.SpanId == ancestor.SpanId) return true;
            return false;
        }

        var server = spans.Single(s => s.Kind == OtlpSpan.Server && s.Service == "workq-emitter");
        Assert.Equal(callerSpan, server.ParentSpanId);
        var publish = Workq(OtlpSpan.Producer, parentId);
        Assert.Equal(server.SpanId, publish.ParentSpanId);
        Assert.Equal("rabbitmq", publish.Attributes["messaging.system"]);
        Assert.Equal($"workq.canvas.{canvas}", publish.Attributes["messaging.destination.name"]);

        var process = Workq(OtlpSpan.Consumer, parentId);
        Assert.Equal("workq-worker", process.Service);
        Assert.True(Descends(process, publish), "the run descends from the emit's publish span");
        Assert.Equal(canvas, process.Attributes["workq.canvas"]);
        Assert.Equal("parent", process.Attributes["workq.worker"]);
        Assert.Equal("1", process.Attributes["workq.attempt"]);
        Assert.Equal($"workq.worker.{canvas}.parent", process.Attributes["messaging.destination.name"]);

        var childPublish = Workq(OtlpSpan.Producer, childId);
        Assert.Equal(process.SpanId, childPublish.ParentSpanId);
        Assert.True(
            Descends(Workq(OtlpSpan.Consumer, childId), childPublish),
            "the child's run descends from the handler's emit");

        // RabbitMQ.Client 7 publishes its own spans under ours (and re-injects traceparent with its span); its
        // deliver span starts a trace of its own, which the run links to rather than duplicating.
        Assert.Contains(spans, s => s.Scope == "RabbitMQ.Client.Publisher" && s.ParentSpanId == publish.SpanId);
        var delivers = observed.Receiver.Spans.Where(s => s.Scope == "RabbitMQ.Client.Subscriber").Select(s => s.SpanId)
            .ToHashSet();
        Assert.Contains(process.LinkedSpanIds, delivers.Contains);
    }

    private async Task WaitConsumingAsync(string canvas, string worker) =>
        await Cluster.EventuallyAsync(() => Cluster.Rabbit.ConsumersAsync(Cluster.VirtualHost),
            c => c.GetValueOrDefault($"workq.worker.{canvas}.{worker}") > 0, Wait, $"a consumer on {canvas}/{worker}");
}
