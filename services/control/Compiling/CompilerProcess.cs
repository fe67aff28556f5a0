using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Workq.Shared.Handlers.Isolation;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Control.Compiling;

/// <summary>
/// One Workq.Compiler process, used by one compile at a time. It cannot be cancelled, only killed:
/// killing it closes its stdout, which ends any read in progress.
/// </summary>
internal sealed class CompilerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stream _input;
    private readonly Stream _output;

    private CompilerProcess(Process process)
    {
        _process = process;
        _input = process.StandardInput.BaseStream;
        _output = process.StandardOutput.BaseStream;
        Ready = ReadReadyAsync();
    }

    public int Id => _process.Id;

    /// <summary>Completes when the process has warmed up (its first compile done); faults if it died first.</summary>
    public Task Ready { get; }

    public static CompilerProcess Start(string host, string compilerDll, int heapMegabytes, ILogger logger)
    {
        var start = new ProcessStartInfo(host, [compilerDll])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(compilerDll)!,
        };
        // Handler code is hostile: the compiler sees none of control's environment (its WORKQ_* secrets).
        start.Environment.Clear();
        foreach (var (key, value) in Environment(heapMegabytes)) start.Environment[key] = value;

        var process = new Process { StartInfo = start };
        process.Start();
        var id = process.Id;
        // A crash (a stack overflow, the heap limit) prints its reason here.
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line) logger.LogWarning("compiler process {Pid}: {Line}", id, line);
        };
        process.BeginErrorReadLine();
        return new CompilerProcess(process);
    }

    /// <summary>The whole environment of a compiler process.</summary>
    internal static IReadOnlyDictionary<string, string> Environment(int heapMegabytes)
        => SandboxEnvironment.For(heapMegabytes);

    /// <summary>The compile's answer, or null when the process died before answering.</summary>
    public async Task<CompileReply?> CompileAsync(string code, TimeSpan timeout)
    {
        try
        {
            await CompilerProtocol.WriteAsync(
                _input,
                new CompileRequest(code, (int)timeout.TotalMilliseconds),
                CancellationToken.None);
            return await CompilerProtocol.ReadAsync<CompileReply>(_output, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return null;
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private async Task ReadReadyAsync()
    {
        var reply = await CompilerProtocol.ReadAsync<CompileReply>(_output, CancellationToken.None);
        if (reply is not { Ready: true }) throw new IOException("the compiler process exited before it was ready");
    }
}
