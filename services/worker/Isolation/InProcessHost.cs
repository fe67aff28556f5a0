using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Scripting;
using Workq.Worker.Runs;

namespace Workq.Worker.Isolation;

/// <summary>
/// <c>WORKQ_ISOLATION=none</c>: handler code runs inside the worker service, as it did before runner processes. For one
/// trusted team and as the benchmark's baseline: a stack overflow or a spinning handler takes every canvas with it.
/// </summary>
public sealed class InProcessHost(HandlerHttp http, ILogger<InProcessHost> logger) : IHandlerHost
{
    private readonly ConcurrentDictionary<int, Lazy<CompiledHandler>> loaded = new();

    public async Task<HandlerOutcome> RunAsync(HandlerVersion version, HandlerRun run, CancellationToken stopping)
    {
        var handler = loaded.GetOrAdd(
            version.Key,
            _ => new Lazy<CompiledHandler>(() => CompiledHandler.Load(version.Assembly))).Value;
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(run.Timeout);
        var envelope = run.Envelope;
        var meta = new HandlerMeta(
            envelope.Id,
            envelope.Canvas,
            envelope.Worker,
            envelope.EnqueuedAt,
            run.Attempt,
            envelope.Depth)
        { BatchId = envelope.BatchId };
        var globals = new HandlerGlobals(run.Body, meta, run.Emitter, http.For(envelope.Canvas), timeout.Token,
            run.Callback is { } batch
                ? new HandlerBatch(batch.Id, batch.Total, batch.Completed, batch.Failed, batch.Cancelled, run.Emitter)
                : null);
        try
        {
            // WaitAsync: code that ignores its token still cannot hold the slot past the time-out.
            var result = await handler.RunAsync(globals).WaitAsync(run.Timeout, stopping);
            return new HandlerOutcome(
                RunOutcome.Completed,
                clock.Elapsed,
                result,
                handler.SerializerOptions,
                Logs: globals.Logs);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            return HandlerOutcome.ShuttingDown;
        }
        // The run's own deadline passed. A TimeoutException of the handler's own (a regular expression's, say) is a
        // failure.
        catch (Exception e) when (timeout.IsCancellationRequested
            || (e is TimeoutException && clock.Elapsed >= run.Timeout))
        {
            return HandlerOutcome.TimedOut(run.Timeout, clock.Elapsed, globals.Logs);
        }
        catch (Exception e)
        {
            logger.LogDebug(
                e,
                "Handler of {Canvas}/{Worker} threw on event {EventId}",
                envelope.Canvas,
                envelope.Worker,
                envelope.Id);
            return new HandlerOutcome(
                RunOutcome.Failed,
                clock.Elapsed,
                ErrorType: e.GetType().Name,
                ErrorMessage: e.Message,
                Logs: globals.Logs);
        }
        finally
        {
            globals.Finish();
        }
    }

    public void Retire(HandlerVersion version)
    {
        // In-flight runs keep the old version alive until they finish; unloading is cooperative.
        if (loaded.TryRemove(version.Key, out var handler) && handler.IsValueCreated) handler.Value.Dispose();
    }
}
