using Workq.Compiler;
using Workq.Shared.Scripting;

// A compiler process: control starts a few, sends each one handler code at a time on stdin, reads the
// compiled assembly (or the errors) on stdout, and kills one whose compile runs past the timeout, because Roslyn does not observe
// cancellation deep inside overload resolution and a thread cannot be aborted. Its heap is bounded by
// DOTNET_GCHeapHardLimit, which control sets; past it, the process dies and control starts another.
var compiler = new ScriptCompiler();
compiler.Warmup();

await using var input = Console.OpenStandardInput();
await using var output = Console.OpenStandardOutput();
await CompilerProtocol.WriteAsync(output, CompileReply.Warm, CancellationToken.None);

// Ends when control closes stdin (it stopped, or died: an orphan must not linger).
while (await CompilerProtocol.ReadAsync<CompileRequest>(input, CancellationToken.None) is { } request)
{
    // Control kills this process at the timeout; should control itself have died meanwhile, nobody
    // would, so the process also ends itself a while after.
    using var watchdog = new Timer(_ => Environment.Exit(3), null, TimeSpan.FromMilliseconds(2.0 * request.TimeoutMilliseconds) + TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
    await CompilerProtocol.WriteAsync(output, Compile(request.Code), CancellationToken.None);
}

// Roslyn itself can fail on hostile code (a NullReferenceException deep in its binder was seen): that refuses the code, as a
// compile error at its start, rather than ending this process and reading as an outage.
CompileReply Compile(string code)
{
    try
    {
        var compiled = compiler.Emit(code);
        return new CompileReply(false, compiled.Errors, compiled.Assembly);
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        return new CompileReply(false, [new ScriptError(1, 1, $"the compiler failed on this code ({e.GetType().Name}: {e.Message}); change it and deploy again")], null);
    }
}
