using Microsoft.Extensions.Hosting;

namespace Workq.Shared.Scripting;

/// <summary>Pays Roslyn's first-compile cost (about a second) at start, not on the first deploy.</summary>
public sealed class CompilerWarmup(ScriptCompiler compiler) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(compiler.Warmup, stoppingToken);
}
