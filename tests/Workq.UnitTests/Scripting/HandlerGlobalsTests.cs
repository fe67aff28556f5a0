using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.UnitTests.Scripting;

public sealed class HandlerGlobalsTests
{
    [Fact]
    public void Logs_are_capped_and_the_drop_is_noted()
    {
        var globals = Scripts.Globals(null);
        for (var i = 0; i < 250; i++)
        {
            globals.Log($"line {i}");
        }

        var logs = globals.Logs;
        Assert.Equal(HandlerGlobals.MaxLogLines, logs.Count);
        Assert.Equal("line 98", logs[^2]);
        Assert.Equal("[151 more log lines dropped]", logs[^1]);
    }

    [Fact]
    public void Long_lines_are_truncated_and_the_cut_is_noted()
    {
        var globals = Scripts.Globals(null);
        globals.Log(new string('x', 5_000));
        globals.Log(null!);

        var line = globals.Logs[0];
        Assert.StartsWith(new string('x', HandlerGlobals.MaxLogLineLength) + "…", line);
        Assert.EndsWith("[truncated, 5000 chars]", line);
        Assert.Equal("", globals.Logs[1]);
    }

    [Fact]
    public async Task Logging_from_many_threads_keeps_every_line_up_to_the_cap()
    {
        var globals = Scripts.Globals(null);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                globals.Log($"{t}:{i}");
            }
        })));

        Assert.Equal(80, globals.Logs.Distinct().Count());
    }

    [Fact]
    public async Task Emit_serializes_values_and_json_nodes_as_themselves_and_passes_the_token()
    {
        using var cts = new CancellationTokenSource();
        var emitter = new RecordingEmitter();
        var globals = new HandlerGlobals(default, Scripts.Meta(), emitter, () => Scripts.Http, cts.Token);

        await globals.Emit("a", new { x = 1, s = "é" });
        await globals.Emit("b", JsonNode.Parse("""{"k":[1,null]}"""));
        await globals.Emit("c", null);
        await globals.Emit("d", 42);

        Assert.Equal(["""{"x":1,"s":"\u00E9"}""", """{"k":[1,null]}""", "null", "42"], emitter.Json);
        Assert.All(emitter.Tokens, token => Assert.Equal(cts.Token, token));
        Assert.Equal(["a", "b", "c", "d"], globals.Emitted.Select(e => e.Worker));
    }

    [Fact]
    public async Task Emit_refuses_an_empty_worker_name()
    {
        var globals = Scripts.Globals(null);

        await Assert.ThrowsAsync<ArgumentException>(() => globals.Emit(" ", 1));
        Assert.Empty(globals.Emitted);
    }

    [Fact]
    public async Task Work_left_running_after_the_run_cannot_emit_or_use_Http()
    {
        var emitter = new FakeEmitter();
        var globals = Scripts.Globals(null, emitter);
        // A task the handler started and never awaited.
        var handler = Scripts.CompileOrFail("""
            var started = new TaskCompletionSource();
            async Task<string> Later()
            {
                started.SetResult();
                // Runs on until the host finishes the run: from then on Http refuses...
                while (true) { try { _ = Http; await Task.Delay(5); } catch (ObjectDisposedException) { break; } }
                // ...and so does Emit.
                try { await Emit("w", 1); return "emitted"; } catch (InvalidOperationException e) { return e.Message; }
            }
            var later = Later();
            await started.Task;
            return later;
            """);
        var later = (Task<string>)(await handler.RunAsync(globals))!;

        globals.Finish();

        Assert.Contains("the run of event", await later.WaitAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
        Assert.Empty(emitter.Emits);
        Assert.Empty(globals.Emitted);
        handler.Dispose();
    }

    [Fact]
    public void Snapshots_do_not_change_after_the_fact()
    {
        var globals = Scripts.Globals(null);
        globals.Log("one");
        var before = globals.Logs;

        globals.Log("two");

        Assert.Equal(["one"], before);
        Assert.Equal(["one", "two"], globals.Logs);
    }

    private sealed class RecordingEmitter : IHandlerEmitter
    {
        public List<string> Json { get; } = [];

        public int MaxEventBytes => 262_144;

        public List<CancellationToken> Tokens { get; } = [];

        public Task<Guid> EmitAsync(
            string worker,
            ReadOnlyMemory<byte> eventJson,
            EmitOptions when,
            CancellationToken cancellationToken)
        {
            Json.Add(System.Text.Encoding.UTF8.GetString(eventJson.Span));
            Tokens.Add(cancellationToken);
            return Task.FromResult(Guid.NewGuid());
        }

        public Task<Guid> EmitBatchAsync(
            IReadOnlyList<BatchEmitItem> events,
            BatchEmitItem? onComplete,
            BatchEmitItem? onSuccess,
            string? step,
            CancellationToken cancellationToken) => throw new NotSupportedException();

        public int MaxStepBytes => 1024;

        public Task<StepState> LoadStepsAsync(CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<ReadOnlyMemory<byte>?> SaveStepAsync(string key, ReadOnlyMemory<byte> json, string? signal,
            CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<BatchResultsPage> BatchResultsAsync(long after, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
