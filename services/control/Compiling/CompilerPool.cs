using System.Threading.Channels;
using Workq.Shared.Handlers.Isolation;

namespace Workq.Control.Compiling;

/// <summary>
/// Compiles handler code in a few warm Workq.Compiler processes, one compile per process at a time.
/// A compile past the timeout, or one whose client went away, kills its process (Roslyn does not
/// reliably observe cancellation, and a thread cannot be aborted) and a fresh one takes its place.
/// </summary>
public sealed class CompilerPool(CompilerPoolOptions options, ILogger<CompilerPool> logger) :
    IHostedService,
    IAsyncDisposable
{
    // One item per process slot; null is a slot whose process could not be started, retried on its next use.
    private readonly Channel<CompilerProcess?> _idle = Channel.CreateBounded<CompilerProcess?>(options.Processes);
    private readonly string _host = SandboxEnvironment.DotnetHost;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(options.CompilerDll))
            throw new FileNotFoundException($"The compiler {options.CompilerDll} is missing: build or publish " +
                $"services/control, which references services/compiler.");
        for (var i = 0; i < options.Processes; i++) _idle.Writer.TryWrite(TryStart());
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (!_idle.Writer.TryComplete()) return;
        while (_idle.Reader.TryRead(out var process))
            if (process is not null) await process.DisposeAsync();
    }

    public async Task<CompileOutcome> CompileAsync(string code, CancellationToken cancellationToken)
    {
        CompilerProcess? process;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            wait.CancelAfter(options.SlotWait);
            try
            {
                process = await _idle.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return CompileOutcome.Of(CompileStatus.Busy);
            }
        }

        var sound = false;
        try
        {
            process ??= TryStart();
            if (process is null) return CompileOutcome.Of(CompileStatus.Unavailable);
            try
            {
                await process.Ready.WaitAsync(options.StartupTimeout, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                sound = true;
                throw;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException)
            {
                logger.LogError("compiler process {Pid} did not start: {Reason}", process.Id, e.Message);
                return CompileOutcome.Of(CompileStatus.Unavailable);
            }

            // Never cancelled itself: a kill of the process ends it.
            var compile = process.CompileAsync(code, options.Timeout);
            try
            {
                var reply = await compile.WaitAsync(options.Timeout, cancellationToken);
                if (reply is null)
                {
                    logger.LogWarning(
                        "compiler process {Pid} died compiling {Chars} characters of code",
                        process.Id,
                        code.Length);
                    return CompileOutcome.Of(CompileStatus.Crashed);
                }
                sound = true;
                return new CompileOutcome(CompileStatus.Compiled, reply.Errors, reply.Assembly);
            }
            catch (TimeoutException)
            {
                logger.LogWarning(
                    "compiler process {Pid} passed the compile timeout of {Timeout}; killing it",
                    process.Id,
                    options.Timeout);
                return CompileOutcome.Of(CompileStatus.TimedOut);
            }
        }
        finally
        {
            await ReleaseAsync(process, sound);
        }
    }

    private async Task ReleaseAsync(CompilerProcess? process, bool sound)
    {
        if (!sound && process is not null)
        {
            await process.DisposeAsync();
            process = TryStart();
        }
        // Fails only once the pool is stopped.
        if (!_idle.Writer.TryWrite(process) && process is not null) await process.DisposeAsync();
    }

    private CompilerProcess? TryStart()
    {
        try
        {
            var process = CompilerProcess.Start(_host, options.CompilerDll, options.HeapMegabytes, logger);
            logger.LogInformation("compiler process {Pid} started", process.Id);
            return process;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            logger.LogError(e, "could not start a compiler process ({Host} {Dll})", _host, options.CompilerDll);
            return null;
        }
    }
}
