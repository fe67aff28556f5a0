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
    private readonly ConcurrentDictionary<(string Canvas, Guid Id), Running> running = new();
    private readonly EarlyCancels early = new(TimeProvider.System);

    /// <summary>
    /// A run under way, for a cancel to find. This host can only cancel its token: code that ignores it runs on to its
    /// time-out (no runner to kill).
    /// </summary>
    private sealed class Running(CancellationTokenSource token)
    {
        private string? by;

        public string? By => Volatile.Read(ref by);

        public void Cancel(string who)
        {
            if (Interlocked.CompareExchange(ref by, who, null) is not null) return;
            try
            {
                token.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It has just ended.
            }
        }
    }

    public bool Cancel(string canvas, Guid eventId, string by)
    {
        early.Add(canvas, eventId, by);
        if (!running.TryGetValue((canvas, eventId), out var run)) return false;
        run.Cancel(by);
        return true;
    }

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
        { BatchId = envelope.BatchId, Resume = envelope.Resume };
        var globals = new HandlerGlobals(run.Body, meta, run.Emitter, http.For(envelope.Canvas), timeout.Token,
            run.Callback is { } batch
                ? new HandlerBatch(batch.Id, batch.Total, batch.Completed, batch.Failed, batch.Cancelled, run.Emitter)
                : null);
        var cancel = new Running(timeout);
        running[(envelope.Canvas, envelope.Id)] = cancel;
        if (early.By(envelope.Canvas, envelope.Id) is { } earlyBy) cancel.Cancel(earlyBy);
        try
        {
            // WaitAsync: code that ignores its token still cannot hold the slot past the time-out.
            var result = await handler.RunAsync(globals).WaitAsync(run.Timeout, stopping);
            return Ended(new HandlerOutcome(
                RunOutcome.Completed,
                clock.Elapsed,
                result,
                handler.SerializerOptions,
                Logs: globals.Logs), globals, cancel);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            return HandlerOutcome.ShuttingDown;
        }
        catch (Exception) when (cancel.By is { } by)
        {
            return HandlerOutcome.Cancelled(by, clock.Elapsed, globals.Logs, globals.StepTraces);
        }
        catch (HandlerSuspendedException) when (globals.Suspended is not null)
        {
            return Ended(new HandlerOutcome(RunOutcome.Failed, clock.Elapsed, Logs: globals.Logs), globals, cancel);
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
            return Ended(new HandlerOutcome(
                RunOutcome.Failed,
                clock.Elapsed,
                ErrorType: e.GetType().Name,
                ErrorMessage: e.Message,
                Logs: globals.Logs), globals, cancel);
        }
        finally
        {
            running.TryRemove(new KeyValuePair<(string, Guid), Running>((envelope.Canvas, envelope.Id), cancel));
            early.Forget(envelope.Canvas, envelope.Id);
            globals.Finish();
        }
    }

    /// <summary>
    /// As the runner ends a run: a cancel wins however the handler ended; then a Sleep or WaitFor, even one whose
    /// exception the handler caught.
    /// </summary>
    private static HandlerOutcome Ended(HandlerOutcome outcome, HandlerGlobals globals, Running cancel)
    {
        if (cancel.By is { } by)
            return HandlerOutcome.Cancelled(by, outcome.Duration, outcome.Logs, globals.StepTraces);
        if (globals.Suspended is { } suspension)
            return new HandlerOutcome(RunOutcome.Suspended, outcome.Duration, Logs: outcome.Logs,
                Suspension: suspension, Steps: globals.StepTraces);
        var steps = globals.StepTraces;
        return steps.Count == 0 ? outcome : outcome with { Steps = steps };
    }

    public void Retire(HandlerVersion version)
    {
        // In-flight runs keep the old version alive until they finish; unloading is cooperative.
        if (loaded.TryRemove(version.Key, out var handler) && handler.IsValueCreated) handler.Value.Dispose();
    }
}
