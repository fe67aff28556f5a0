namespace Workq.Tests.Isolation;

/// <summary>
/// Handler code behaves the same in a runner process as it did in the worker service: framework messages, emits.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RunnerSemanticsTests(WorkqCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_frameworks_exception_messages_in_traces_are_the_full_ones()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("semantics");
        await cluster.DeployAsync(
            canvas,
            "throw",
            "string? missing = null; ArgumentNullException.ThrowIfNull(missing); return 1;",
            token: token);
        await cluster.EmitAsync(canvas, "throw", "null", token);

        var thrown = (await cluster.EventuallyAsync(
            () => cluster.GetTracesAsync(canvas, "throw"),
            t => t.Count == 1,
            Patience,
            "throw traced"))[0];
        Assert.Equal("failed", thrown.Status);
        Assert.Equal("ArgumentNullException", thrown.Error!.Type);
        Assert.Equal("Value cannot be null. (Parameter 'missing')", thrown.Error.Message);
    }

    [Fact]
    public async Task Emits_from_a_runner_carry_the_chain_and_a_refused_emit_throws_the_same_exception_as_in_process()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("semantics");
        await cluster.DeployAsync(canvas, "leaf", "return Meta.Depth;", token: token);
        await cluster.DeployAsync(canvas, "root", """
            var child = await Emit("leaf", new { from = Meta.Id });
            try { await Emit("not a name!", 1); } catch (ArgumentException e) { Log($"refused: {e.GetType().Name}"); }
            return child;
            """, token: token);
        var id = await cluster.EmitAsync(canvas, "root", "null", token);

        var root = (await cluster.EventuallyAsync(
            () => cluster.TracesAsync(canvas, "root"),
            t => t.Count == 1,
            Patience,
            "root traced"))[0]!;
        Assert.Equal("completed", root["status"]!.GetValue<string>());
        var child = Assert.Single(root["emitted"]!.AsArray())!;
        Assert.Equal("leaf", child["worker"]!.GetValue<string>());
        Assert.Equal(child["id"]!.GetValue<string>(), root["result"]!.GetValue<string>());
        Assert.Contains("refused: ArgumentException", root["logs"]!.AsArray().Select(l => l!.GetValue<string>()));
        var leaf = (await cluster.EventuallyAsync(
            () => cluster.TracesAsync(canvas, "leaf"),
            t => t.Count == 1,
            Patience,
            "leaf traced"))[0]!;
        Assert.Equal(child["id"]!.GetValue<string>(), leaf["eventId"]!.GetValue<string>());
        Assert.Equal(1, leaf["result"]!.GetValue<int>());
        Assert.Equal(root["traceId"]?.ToJsonString(), leaf["traceId"]?.ToJsonString());
        Assert.NotEqual(id.ToString(), leaf["eventId"]!.GetValue<string>());
    }
}
