using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Workq.Shared.Handlers.Scripting;

namespace Workq.UnitTests.Scripting;

public sealed class UnloadTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("plain", "return 1;")]
    [InlineData("emit an anonymous object", "await Emit(\"w\", new { n = 1 }); return 1;")]
    [InlineData("return a script-defined record", "record R(int N); return new R(1);")]
    public async Task A_disposed_handler_is_collected(string what, string code)
    {
        var context = await RunAndDispose(code);

        Assert.True(await Collected(context), $"{what}: the handler's load context was not collected");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> RunAndDispose(string code)
    {
        var handler = Scripts.CompileOrFail(code);
        var result = await handler.RunAsync(Scripts.Globals(new JsonObject { ["n"] = 1 }));
        Assert.NotNull(Workq.Shared.Handlers.Scripting.JsonResult.ToJson(result, handler.SerializerOptions));
        var context = new WeakReference(handler.LoadContext);
        handler.Dispose();
        return context;
    }

    private async Task<bool> Collected(WeakReference context)
    {
        var clock = Stopwatch.StartNew();
        var rounds = 0;
        while (context.IsAlive && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            rounds++;
            if (clock.Elapsed > TimeSpan.FromSeconds(1.5))
            {
                // System.Text.Json keeps the member accessors it emitted for about a second and
                // evicts them only when it builds new metadata, which a busy worker does all the time.
                JsonSerializer.Serialize(
                    new Probe(rounds),
                    new JsonSerializerOptions { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(50);
        }

        output.WriteLine($"collected: {!context.IsAlive} after {rounds} GC rounds, {clock.ElapsedMilliseconds} ms");
        return !context.IsAlive;
    }

    private sealed record Probe(int Round);
}
