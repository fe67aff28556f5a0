using Workq.Shared.Handlers.Scripting;

namespace Workq.Compiler;

/// <summary>A compiler process's work: read one compile request at a time from control and answer it.</summary>
public sealed class CompilerLoop(ScriptCompiler compiler)
{
    /// <summary>
    /// Says it is warm, then answers every request; ends when control closes stdin (it stopped, or died: an orphan
    /// must not linger).
    /// </summary>
    public async Task RunAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        await CompilerProtocol.WriteAsync(output, CompileReply.Warm, cancellationToken);
        while (await CompilerProtocol.ReadAsync<CompileRequest>(input, cancellationToken) is { } request)
        {
            // Control kills this process at the timeout; should control itself have died meanwhile, nobody
            // would, so the process also ends itself a while after.
            var deadline = TimeSpan.FromMilliseconds(2.0 * request.TimeoutMilliseconds) + TimeSpan.FromSeconds(5);
            using var watchdog = new Timer(_ => Environment.Exit(3), null, deadline, Timeout.InfiniteTimeSpan);
            await CompilerProtocol.WriteAsync(output, Compile(request.Code), cancellationToken);
        }
    }

    // Roslyn itself can fail on hostile code (a NullReferenceException deep in its binder was seen): that refuses the
    // code, as a compile error at its start, rather than ending this process and reading as an outage.
    private CompileReply Compile(string code)
    {
        try
        {
            var compiled = compiler.Emit(code);
            return new CompileReply(false, compiled.Errors, compiled.Assembly);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var error = $"the compiler failed on this code ({e.GetType().Name}: {e.Message}); "
                + "change it and deploy again";
            return new CompileReply(false, [new ScriptError(1, 1, error)], null);
        }
    }
}
