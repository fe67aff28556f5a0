using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.Isolation;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.Runner;

/// <summary>What the supervisor's first frame tells a runner.</summary>
public sealed record RunnerSettings(string Canvas, string? EgressAllow, int MaxThreads)
{
    public static RunnerSettings Read(ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload);
        return new RunnerSettings(reader.String()!, reader.String(), reader.Int());
    }
}

/// <summary>
/// Runs the supervisor's events through the loaded handler versions, each on a thread-pool thread of its own, and reports
/// every end: completed, failed, or timed out when the handler honoured its token. A handler that does not is left to
/// the supervisor, which kills the whole runner past the time-out.
/// </summary>
public sealed class HandlerRuns(RunnerSettings settings, FrameOutput output)
{
    private readonly RunnerSettings settings = settings;
    private readonly FrameOutput output = output;
    private readonly ConcurrentDictionary<int, CompiledHandler> versions = new();
    private readonly ConcurrentDictionary<int, string> unloadable = new();
    private readonly ConcurrentDictionary<(long Run, int Emit), PendingEmit> emits = new();
    private readonly HandlerHttp http = new(EgressPolicy.Parse(settings.EgressAllow));

    public void Dispatch(byte type, ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload);
        switch (type)
        {
            case RunnerProtocol.Load:
                Load(reader.Int(), reader.Bytes().ToArray());
                break;
            case RunnerProtocol.Unload:
                if (versions.TryRemove(reader.Int(), out var retired)) retired.Dispose();
                break;
            case RunnerProtocol.Run:
                var run = new Run(this, reader.Long(), reader.Int(), reader.Guid(), reader.String()!, new DateTimeOffset(reader.Long(), TimeSpan.Zero),
                    reader.Int(), reader.Int(), TimeSpan.FromMilliseconds(reader.Int()), reader.Bytes().ToArray());
                ThreadPool.UnsafeQueueUserWorkItem(static r => _ = r.ExecuteAsync(), run, preferLocal: false);
                break;
            case RunnerProtocol.EmitReply:
                var key = (Run: reader.Long(), Emit: reader.Int());
                var ok = reader.Bool();
                var id = reader.Guid();
                var kind = reader.Byte();
                var message = reader.String();
                if (!emits.TryRemove(key, out var waiting)) break;
                if (ok) waiting.TrySetResult(id);
                // Thrown in the handler as the worker service's own emit would have thrown it.
                else waiting.TrySetException(kind switch
                {
                    RunnerProtocol.EmitInvalidArgument => new ArgumentException(message),
                    RunnerProtocol.EmitQueueFull => QueueFullException.Relayed(message ?? "", settings.Canvas, waiting.Worker),
                    _ => new InvalidOperationException(message),
                });
                break;
        }
    }

    private void Load(int key, byte[] assembly)
    {
        try
        {
            versions[key] = CompiledHandler.Load(assembly);
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or FileLoadException)
        {
            unloadable[key] = $"{e.GetType().Name}: {e.Message}";
        }
    }

    private sealed class PendingEmit(string worker) : TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string Worker => worker;
    }

    private sealed class Run(HandlerRuns runs, long id, int version, Guid eventId, string worker, DateTimeOffset enqueuedAt, int attempt, int depth, TimeSpan timeout, byte[] body)
        : IHandlerEmitter
    {
        private int emitted;

        public async Task ExecuteAsync()
        {
            var clock = Stopwatch.StartNew();
            using var deadline = new CancellationTokenSource(timeout);
            var meta = new HandlerMeta(eventId, runs.settings.Canvas, worker, enqueuedAt, attempt, depth);
            var globals = new HandlerGlobals(body, meta, this, runs.http.For(runs.settings.Canvas), deadline.Token);
            RunnerOutcome outcome;
            string? result = null, errorType = null, errorMessage = null;
            try
            {
                if (!runs.versions.TryGetValue(version, out var handler))
                    throw new InvalidOperationException(runs.unloadable.TryGetValue(version, out var why) ? $"the handler could not be loaded: {why}" : "the handler version is not loaded");
                var value = await handler.RunAsync(globals);
                result = JsonResult.ToTraceJson(value, handler.SerializerOptions);
                outcome = RunnerOutcome.Completed;
            }
            // The run's own deadline passed. A TimeoutException of the handler's own (a regular expression's, say) is a failure.
            catch (Exception e) when (deadline.IsCancellationRequested || (e is TimeoutException && clock.Elapsed >= timeout))
            {
                outcome = RunnerOutcome.TimedOut;
            }
            catch (Exception e)
            {
                outcome = RunnerOutcome.Failed;
                (errorType, errorMessage) = (e.GetType().Name, SafeMessage(e));
            }
            var duration = clock.Elapsed;
            globals.Finish();
            try
            {
                using var done = runs.output.Begin(RunnerProtocol.Done);
                done.Long(id);
                done.Byte((byte)outcome);
                done.Long(duration.Ticks);
                done.String(result);
                done.String(errorType);
                done.String(errorMessage);
                var logs = globals.Logs;
                done.Int(logs.Count);
                foreach (var line in logs) done.String(line);
            }
            catch (IOException)
            {
                // The supervisor is gone; this process ends as soon as its reader notices.
            }
        }

        public Task<Guid> EmitAsync(string worker, ReadOnlyMemory<byte> eventJson, EmitWhen when, CancellationToken cancellationToken)
        {
            var number = Interlocked.Increment(ref emitted);
            var reply = new PendingEmit(worker);
            runs.emits[(id, number)] = reply;
            using (var emit = runs.output.Begin(RunnerProtocol.Emit))
            {
                emit.Long(id);
                emit.Int(number);
                emit.String(worker);
                emit.Bytes(eventJson.Span);
                emit.When(when);
            }
            return reply.Task.WaitAsync(cancellationToken);
        }

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
