using System.Globalization;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// The whole environment of a process that holds hostile code (a compiler or a runner): none of the parent's, so no
/// <c>WORKQ_*</c> connection string or token, only what bounds the runtime.
/// </summary>
public static class SandboxEnvironment
{
    /// <summary>
    /// The runner's argument when it starts in the OS sandbox: it loads its own seccomp filter before anything else.
    /// </summary>
    public const string SandboxedArgument = "--sandboxed";
    /// <summary>
    /// With <see cref="SandboxedArgument"/>: the worker service's start-up probe; the runner reports its sandbox and
    /// exits.
    /// </summary>
    public const string ProbeArgument = "--probe";

    /// <summary>
    /// The <c>dotnet</c> host to start such a process with: the parent's own when it was started by <c>dotnet</c>.
    /// </summary>
    public static string DotnetHost { get; } =
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    public static IReadOnlyDictionary<string, string> For(int heapMegabytes)
    {
        var environment = new Dictionary<string, string>
        {
            // Hexadecimal bytes; past it the process fails with OutOfMemory instead of taking the machine's memory.
            ["DOTNET_GCHeapHardLimit"] = "0x"
                + (heapMegabytes * 1024L * 1024L).ToString("X", CultureInfo.InvariantCulture),
            ["DOTNET_gcServer"] = "0",
            ["DOTNET_gcConcurrent"] = "0",
            // No diagnostics IPC socket: nothing should attach to a process that holds hostile code.
            ["DOTNET_EnableDiagnostics"] = "0",
            ["DOTNET_DbgEnableMiniDump"] = "0",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        // Where the runtime is, when the parent itself was started by an apphost rather than `dotnet`; and the locale
        // and time zone, so that handler code formats and tells the time as it would in the parent. None is a secret.
        foreach (var name in (string[])["DOTNET_ROOT", "LANG", "LC_ALL", "TZ"])
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value) environment[name] = value;
        return environment;
    }
}
