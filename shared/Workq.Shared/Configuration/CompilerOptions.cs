using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>Control only: what handler code a deploy may send, and the compiler processes that compile it.</summary>
public sealed class CompilerOptions
{
    /// <summary>How long one deploy's compile may take before its compiler process is killed.</summary>
    public TimeSpan CompileTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>The largest handler code accepted, in UTF-8 bytes.</summary>
    public int MaxCodeBytes { get; init; } = 65_536;
    /// <summary>Compiler processes, so compiles running at once.</summary>
    public int MaxConcurrentCompiles { get; init; } = 2;
    /// <summary>Each compiler process's GC heap limit.</summary>
    public int CompilerHeapMegabytes { get; init; } = 512;

    public static CompilerOptions From(IConfiguration config)
    {
        var defaults = new CompilerOptions();
        return new CompilerOptions
        {
            CompileTimeout = Setting.Seconds(config, "WORKQ_COMPILE_TIMEOUT_SECONDS", defaults.CompileTimeout),
            MaxCodeBytes = Setting.Int(config, "WORKQ_MAX_CODE_BYTES", defaults.MaxCodeBytes),
            MaxConcurrentCompiles = Setting.Int(
                config,
                "WORKQ_MAX_CONCURRENT_COMPILES",
                defaults.MaxConcurrentCompiles),
            CompilerHeapMegabytes = Setting.Int(config, "WORKQ_COMPILER_HEAP_MB", defaults.CompilerHeapMegabytes),
        };
    }
}
