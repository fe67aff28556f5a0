using Workq.Compiler;

// A compiler process: control starts a few, sends each one handler code at a time on stdin, reads the compiled
// assembly (or the errors) on stdout, and kills one whose compile runs past the timeout, because Roslyn does not
// observe cancellation deep inside overload resolution and a thread cannot be aborted. Its heap is bounded by
// DOTNET_GCHeapHardLimit, which control sets; past it, the process dies and control starts another.
var compiler = new ScriptCompiler();
compiler.Warmup();

await using var input = Console.OpenStandardInput();
await using var output = Console.OpenStandardOutput();
await new CompilerLoop(compiler).RunAsync(input, output, CancellationToken.None);
