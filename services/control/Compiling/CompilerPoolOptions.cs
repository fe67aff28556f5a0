using Workq.Shared.Configuration;

namespace Workq.Control.Compiling;

public sealed record CompilerPoolOptions(string CompilerDll, int Processes, TimeSpan Timeout, int HeapMegabytes)
{
    /// <summary>
    /// How long a compile waits for a free process before it is refused as busy: a burst of ordinary deploys fits in
    /// it.
    /// </summary>
    public TimeSpan SlotWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a compile waits for a new process to warm up (about a second when the cores are free).
    /// </summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The compiler built next to this service (control references Workq.Compiler, so its output is copied here).
    /// </summary>
    public static CompilerPoolOptions From(CompilerOptions options) =>
        new(
            Path.Combine(AppContext.BaseDirectory, "Workq.Compiler.dll"),
            options.MaxConcurrentCompiles,
            options.CompileTimeout,
            options.CompilerHeapMegabytes);
}
