using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Workq.Shared.Handlers.Isolation;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.Runner;

/// <summary>
/// Runs the supervisor's events through the loaded handler versions, each on a thread-pool thread of its own, and
/// reports every end: completed, failed, or timed out when the handler honoured its token. A handler that does not is
/// left to the supervisor, which kills the whole runner past the time-out.
/// </summary>
public sealed class HandlerRuns(InitFrame settings, FrameOutput output)
{
    private readonly InitFrame settings = settings;
    private readonly FrameOutput output = output;
    private readonly ConcurrentDictionary<int, CompiledHandler> versions = new();
    private readonly ConcurrentDictionary<int, string> unloadable = new();
    private readonly ConcurrentDictionary<(long Run, int Emit), PendingEmit> emits = new();
    private readonly ConcurrentDictionary<(long Run, int Request), TaskCompletionSource<BatchResultsPage>> pages =
        new();
    private readonly ConcurrentDictionary<(long Run, int Request), TaskCompletionSource<StepReplyFrame>> steps = new();
    // The runs under way, for a Cancel frame to find.
    private readonly ConcurrentDictionary<long, Run> running = new();
    private readonly HttpRelay http = new(output, settings.HttpConcurrency, settings.HttpMaxBytes);

    /// <summary>One frame from the supervisor; a type it does not send is a broken channel.</summary>
    public void Dispatch(byte type, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case LoadFrame.Type:
                Load(LoadFrame.Read(payload));
                break;
            case UnloadFrame.Type:
                if (versions.TryRemove(UnloadFrame.Read(payload).Key, out var retired)) retired.Dispose();
                break;
            case RunFrame.Type:
                ThreadPool.UnsafeQueueUserWorkItem(
                    static r => _ = r.ExecuteAsync(),
                    new Run(this, RunFrame.Read(payload)),
                    preferLocal: false);
                break;
            case EmitReplyFrame.Type:
                Reply(EmitReplyFrame.Read(payload));
                break;
            case BatchResultsReplyFrame.Type:
                Reply(BatchResultsReplyFrame.Read(payload));
                break;
            case StepReplyFrame.Type:
                var step = StepReplyFrame.Read(payload);
                if (steps.TryRemove((step.RunId, step.Number), out var waitingStep)) waitingStep.TrySetResult(step);
                break;
            case CancelFrame.Type:
                if (running.TryGetValue(CancelFrame.Read(payload).RunId, out var cancelled)) cancelled.Cancel();
                break;
            case HttpResponseFrame.Type:
                http.OnResponse(HttpResponseFrame.Read(payload));
                break;
            case HttpBodyFrame.Type:
                http.OnBody(HttpBodyFrame.Read(payload));
                break;
            case HttpEndFrame.Type:
                http.OnEnd(HttpEndFrame.Read(payload));
                break;
            default:
                throw new InvalidDataException($"frame type {type} is not one the supervisor sends");
        }
    }

    private void Reply(EmitReplyFrame reply)
    {
        if (!emits.TryRemove((reply.RunId, reply.Number), out var waiting)) return;
        if (reply.EventId is { } id) waiting.TrySetResult(id);
        // Thrown in the handler as the worker service's own emit would have thrown it.
        else waiting.TrySetException(reply.FailureKind switch
        {
            RunnerProtocol.EmitInvalidArgument => new ArgumentException(reply.Refusal),
            RunnerProtocol.EmitQueueFull => QueueFullException.Relayed(
                reply.Refusal ?? "",
                settings.Canvas,
                waiting.Worker),
            _ => new InvalidOperationException(reply.Refusal),
        });
    }

    private void Reply(BatchResultsReplyFrame reply)
    {
        if (!pages.TryRemove((reply.RunId, reply.Number), out var waiting)) return;
        if (reply.Page is { } page) waiting.TrySetResult(page);
        else waiting.TrySetException(new InvalidOperationException(reply.Refusal));
    }

    private void Load(LoadFrame load)
    {
        var (key, assembly) = (load.Key, load.Assembly.ToArray());
        try
        {
            versions[key] = CompiledHandler.Load(assembly);
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or FileLoadException)
        {
            unloadable[key] = $"{e.GetType().Name}: {e.Message}";
        }
    }

    private sealed class PendingEmit(
        string worker) : TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string Worker => worker;
    }

    private sealed class Run(HandlerRuns runs, RunFrame frame) : IHandlerEmitter
    {
        private readonly CancellationTokenSource deadline = new(frame.Timeout);
        private int emitted;
        private int requests;
        private volatile bool cancelled;

        public int MaxEventBytes => runs.settings.MaxEventBytes;

        public int MaxStepBytes => runs.settings.MaxStepBytes;

        /// <summary>Its event was cancelled: the handler's token is cancelled, and the run ends cancelled.</summary>
        public void Cancel()
        {
            cancelled = true;
            try
            {
                deadline.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It has just ended.
            }
        }

        public async Task ExecuteAsync()
        {
            runs.running[frame.RunId] = this;
            try
            {
                await RunAsync();
            }
            finally
            {
                runs.running.TryRemove(frame.RunId, out _);
                deadline.Dispose();
            }
        }

        private async Task RunAsync()
        {
            var clock = Stopwatch.StartNew();
            var meta = new HandlerMeta(
                frame.EventId,
                runs.settings.Canvas,
                frame.Worker,
                frame.EnqueuedAt,
                frame.Attempt,
                frame.Depth)
            { BatchId = frame.BatchId, Resume = frame.Resume };
            var globals = new HandlerGlobals(
                frame.Body,
                meta,
                this,
                () => runs.http.ClientFor(frame.RunId),
                deadline.Token,
                frame.Callback is { } batch
                    ? new HandlerBatch(batch.Id, batch.Total, batch.Completed, batch.Failed, batch.Cancelled, this)
                    : null);
            RunnerOutcome outcome;
            byte[]? result = null;
            string? errorType = null, errorMessage = null;
            try
            {
                if (!runs.versions.TryGetValue(frame.Key, out var handler))
                    throw new InvalidOperationException(runs.unloadable.TryGetValue(frame.Key, out var why)
                        ? $"the handler could not be loaded: {why}"
                        : "the handler version is not loaded");
                var value = await handler.RunAsync(globals);
                result = Sendable(Encoding.UTF8.GetBytes(JsonResult.ToTraceJson(value, handler.SerializerOptions)));
                outcome = RunnerOutcome.Completed;
            }
            // The run's own deadline passed. A TimeoutException of the handler's own (a regular expression's, say) is a
            // failure.
            catch (Exception e) when (deadline.IsCancellationRequested
                || (e is TimeoutException && clock.Elapsed >= frame.Timeout))
            {
                outcome = RunnerOutcome.TimedOut;
            }
            catch (Exception e)
            {
                outcome = RunnerOutcome.Failed;
                (errorType, errorMessage) = (e.GetType().Name, Sendable(SafeMessage(e)));
            }
            var duration = clock.Elapsed;
            globals.Finish();
            // A cancel wins however the handler ended; then a Sleep or WaitFor, even one whose exception it caught.
            var suspended = globals.Suspended;
            if (cancelled) (outcome, result, suspended) = (RunnerOutcome.Cancelled, null, null);
            else if (suspended is not null) (outcome, result, errorType, errorMessage) =
                (RunnerOutcome.Suspended, null, null, null);
            try
            {
                new DoneFrame(
                    frame.RunId,
                    outcome,
                    duration,
                    result is { } json ? (ReadOnlyMemory<byte>?)json : null,
                    errorType,
                    errorMessage,
                    globals.Logs,
                    suspended,
                    globals.StepTraces).Write(runs.output);
            }
            catch (IOException)
            {
                // The supervisor is gone; this process ends as soon as its reader notices.
            }
        }

        public Task<Guid> EmitAsync(
            string worker,
            ReadOnlyMemory<byte> eventJson,
            EmitOptions options,
            CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref emitted);
            var reply = new PendingEmit(worker);
            runs.emits[(frame.RunId, number)] = reply;
            new EmitFrame(frame.RunId, number, worker, eventJson, options).Write(runs.output);
            return reply.Task.WaitAsync(cancellationToken);
        }

        public Task<Guid> EmitBatchAsync(
            IReadOnlyList<BatchEmitItem> events,
            BatchEmitItem? onComplete,
            BatchEmitItem? onSuccess,
            string? step,
            CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref emitted);
            var reply = new PendingEmit(events.Count > 0 ? events[0].Worker : "");
            runs.emits[(frame.RunId, number)] = reply;
            new EmitBatchFrame(frame.RunId, number, events, onComplete, onSuccess, step).Write(runs.output);
            return reply.Task.WaitAsync(cancellationToken);
        }

        public async Task<StepState> LoadStepsAsync(CancellationToken cancellationToken) =>
            (await AskAsync(number => StepFrame.Load(frame.RunId, number), cancellationToken)).State
            ?? throw new InvalidOperationException("the worker service answered a load without the state");

        public async Task<ReadOnlyMemory<byte>?> SaveStepAsync(
            string key,
            ReadOnlyMemory<byte> json,
            string? signal,
            CancellationToken cancellationToken) =>
            (await AskAsync(number => new StepFrame(frame.RunId, number, true, key, json, signal), cancellationToken))
            .Won;

        private async Task<StepReplyFrame> AskAsync(Func<int, StepFrame> request, CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref requests);
            var reply = new TaskCompletionSource<StepReplyFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
            runs.steps[(frame.RunId, number)] = reply;
            request(number).Write(runs.output);
            var answer = await reply.Task.WaitAsync(cancellationToken);
            return answer.Refusal is { } refusal ? throw new InvalidOperationException(refusal) : answer;
        }

        public Task<BatchResultsPage> BatchResultsAsync(long after, CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref requests);
            var reply = new TaskCompletionSource<BatchResultsPage>(TaskCreationOptions.RunContinuationsAsynchronously);
            runs.pages[(frame.RunId, number)] = reply;
            new BatchResultsFrame(frame.RunId, number, after).Write(runs.output);
            return reply.Task.WaitAsync(cancellationToken);
        }

        /// <summary>
        /// No more of a result or an error than the worker service could keep (WORKQ_MAX_TRACE_BYTES): it cuts and
        /// marks them, and what is sent stays just past the budget, so that it still sees that it must.
        /// </summary>
        private byte[] Sendable(byte[] json) => json.Length > SendLimit ? json[..SendLimit] : json;

        private string Sendable(string text) => text.Length > SendLimit ? text[..SendLimit] : text;

        private int SendLimit => runs.settings.MaxTraceBytes + 1024;

        // User code: a Message getter may throw too.
        private static string SafeMessage(Exception e)
        {
            try
            {
                return e.Message;
            }
            catch (Exception)
            {
                return "(its Message threw)";
            }
        }
    }
}
