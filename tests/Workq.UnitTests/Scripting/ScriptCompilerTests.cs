using System.Diagnostics;
using Workq.Compiler;
using Workq.Shared.Handlers.Scripting;

namespace Workq.UnitTests.Scripting;

public sealed class ScriptCompilerTests(ITestOutputHelper output)
{
    private const string Example = """
        var n = Event!["n"]!.GetValue<int>();
        if (n < 3) await Emit("count", new { n = n + 1 });
        Log($"saw {n}");
        return n * 2;
        """;

    [Fact]
    public async Task Example_returns_double_and_does_not_emit_at_three()
    {
        using var handler = Scripts.CompileOrFail(Example);
        var emitter = new FakeEmitter();
        var globals = Scripts.Globals(JsonNode.Parse("""{"n":3}"""), emitter);

        var result = await handler.RunAsync(globals);

        Assert.Equal(6, result);
        Assert.Empty(emitter.Emits);
        Assert.Empty(globals.Emitted);
        Assert.Equal(["saw 3"], globals.Logs);
    }

    [Fact]
    public async Task Example_emits_the_next_count_below_three()
    {
        using var handler = Scripts.CompileOrFail(Example);
        var emitter = new FakeEmitter();
        var globals = Scripts.Globals(JsonNode.Parse("""{"n":1}"""), emitter);

        var result = await handler.RunAsync(globals);

        Assert.Equal(2, result);
        var (worker, json, id) = Assert.Single(emitter.Emits);
        Assert.Equal("count", worker);
        Assert.Equal("""{"n":2}""", json);
        Assert.Equal([new EmittedEvent("count", id)], globals.Emitted);
        Assert.Equal(["saw 1"], globals.Logs);
    }

    [Fact]
    public async Task Compiled_once_runs_many_times_concurrently()
    {
        using var handler = Scripts.CompileOrFail(Example);
        var runs = Enumerable.Range(0, 50)
            .Select(i => handler.RunAsync(Scripts.Globals(new JsonObject { ["n"] = i })))
            .ToList();

        var results = await Task.WhenAll(runs);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (object?)(i * 2)), results);
    }

    [Theory]
    [InlineData("")]
    [InlineData("// only a comment")]
    [InlineData("using System.Text;")]
    public void Code_with_no_statement_is_refused_as_a_compile_error_not_a_crash(string code)
    {
        var emitted = new ScriptCompiler().Emit(code);

        Assert.Null(emitted.Assembly);
        Assert.Contains("no statement to run", Assert.Single(emitted.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Code_without_return_returns_null()
    {
        using var handler = Scripts.CompileOrFail("Log(\"hi\");");
        var globals = Scripts.Globals(null);

        Assert.Null(await handler.RunAsync(globals));
        Assert.Equal(["hi"], globals.Logs);
    }

    [Fact]
    public async Task Meta_is_visible()
    {
        using var handler = Scripts.CompileOrFail("""
            var m = Meta;
            return $"{m.Id} {m.Canvas} {m.Worker} {m.EnqueuedAt:O} {m.Attempt} {Meta.Depth}";
            """);
        var meta = Scripts.Meta();

        var result = await handler.RunAsync(Scripts.Globals(null));

        Assert.Equal($"{meta.Id} shop count {meta.EnqueuedAt:O} 1 0", result);
    }

    [Fact]
    public async Task Concurrent_emits_are_all_recorded()
    {
        using var handler = Scripts.CompileOrFail("""
            var ids = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Emit("fan", JsonNode.Parse($"[{i}]"))));
            return ids.Length;
            """);
        var emitter = new FakeEmitter();
        var globals = Scripts.Globals(null, emitter);

        Assert.Equal(20, await handler.RunAsync(globals));
        Assert.Equal(20, globals.Emitted.Count);
        Assert.Equal(emitter.Emits.Select(e => e.Id).Order(), globals.Emitted.Select(e => e.Id).Order());
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"[{i}]").Order(), emitter.Emits.Select(e => e.Json).Order());
    }

    [Fact]
    public async Task Exceptions_thrown_by_the_handler_fault_the_task()
    {
        using var handler = Scripts.CompileOrFail("throw new InvalidOperationException(\"boom\");");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => handler.RunAsync(Scripts.Globals(null)));
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public async Task Delay_with_the_cancellation_token_is_cancelled_when_it_fires()
    {
        using var handler = Scripts.CompileOrFail("""
            await Task.Delay(TimeSpan.FromMinutes(5), CancellationToken);
            return "finished";
            """);
        using var cts = new CancellationTokenSource();
        var run = handler.RunAsync(Scripts.Globals(null, cancellationToken: cts.Token));

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_disposed_handler_refuses_to_run()
    {
        var handler = Scripts.CompileOrFail("return 1;");
        handler.Dispose();
        handler.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => handler.RunAsync(Scripts.Globals(null)));
    }

    [Fact]
    public void Syntax_error_reports_the_users_line_and_column()
    {
        var errors = Scripts.Errors("""
            var a = 1;
            var b = a +;
            return b;
            """);

        var error = Assert.Single(errors);
        Assert.Equal(2, error.Line);
        Assert.Equal(12, error.Column);
        Assert.Contains("CS1525", error.Message);
    }

    [Fact]
    public void Semantic_errors_are_all_reported_with_positions()
    {
        var errors = Scripts.Errors("""
            var a = 1;
            string s = a;
            return Nope(a);
            """);

        Assert.Contains(errors, e => e is { Line: 2, Column: 12 } && e.Message.Contains("CS0029"));
        Assert.Contains(errors, e => e is { Line: 3, Column: 8 } && e.Message.Contains("Nope"));
    }

    [Fact]
    public void Reference_and_load_directives_resolve_nothing()
    {
        Assert.Contains(Scripts.Errors("#r \"/usr/lib/some.dll\"\nreturn 1;"), e => e.Line == 1);
        Assert.Contains(Scripts.Errors("#load \"/etc/passwd\"\nreturn 1;"), e => e.Line == 1);
    }

    [Fact]
    public async Task One_compiler_compiles_concurrently()
    {
        var handlers = await Task.WhenAll(
            Enumerable.Range(0, 16).Select(i => Task.Run(() => Scripts.CompileOrFail($"return {i} * 2;"))));
        try
        {
            var results = await Task.WhenAll(handlers.Select(h => h.RunAsync(Scripts.Globals(null))));
            Assert.Equal(Enumerable.Range(0, 16).Select(i => (object?)(i * 2)), results);
        }
        finally
        {
            foreach (var handler in handlers)
            {
                handler.Dispose();
            }
        }
    }

    [Fact]
    public void Compiling_many_small_scripts_is_measured()
    {
        var compiler = new ScriptCompiler();
        var clock = Stopwatch.StartNew();
        compiler.Warmup();
        var warmup = clock.Elapsed;

        clock.Restart();
        for (var i = 0; i < 100; i++)
        {
            var result = compiler.Compile($$"""
                var n = Event?["n"]?.GetValue<int>() ?? {{i}};
                var words = new List<string> { "a", "b", "c{{i}}" };
                if (n < {{i}}) await Emit("w{{i}}", new { n = n + 1 });
                Log(string.Join(",", words.Where(w => w.Length > 0)));
                return n * {{i}};
                """);
            Assert.True(result.Succeeded, string.Join("\n", result.Errors));
            result.Handler.Dispose();
        }

        var hundred = clock.Elapsed;
        output.WriteLine($"warmup (first compile of this compiler): {warmup.TotalMilliseconds:F0} ms");
        output.WriteLine(
            $"100 different small scripts: {hundred.TotalMilliseconds:F0} ms total, "
            + $"{hundred.TotalMilliseconds / 100:F1} ms each");
    }
}
