using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Shared.Handlers;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;

namespace Workq.Shared.Scripting;

// Handler code sees this type, and every compiled handler stored in PostgreSQL references it by its full name:
// its namespace is part of the contract (docs/API.md), older than the Workq.Shared.Handlers.* namespaces.
/// <summary>
/// The globals of a handler script: one instance per run. Scripts may touch only
/// <see cref="Event"/>, <see cref="Meta"/>, <see cref="Emit"/>, <see cref="EmitBatch"/>, <see cref="Batch"/>,
/// <see cref="Log"/>, <see cref="Http"/>, <see cref="CancellationToken"/> and the durable <see cref="Step"/>,
/// <see cref="Sleep"/>, <see cref="SleepUntil"/> and <see cref="WaitFor"/>; the API guard refuses the rest.
/// </summary>
/// <remarks>
/// <see cref="Event"/> is parsed and <see cref="Http"/> created on first use: most handlers need one or
/// neither, and this is paid on every run.
/// </remarks>
public class HandlerGlobals(
    ReadOnlyMemory<byte> eventJson,
    HandlerMeta meta,
    IHandlerEmitter emitter,
    Func<HttpClient> createHttp,
    CancellationToken cancellationToken,
    HandlerBatch? batch = null)
{
    public const int MaxLogLines = 100;
    public const int MaxLogLineLength = 2_000;

    private readonly Lock _gate = new();
    private readonly List<string> _logs = [];
    private readonly List<EmittedEvent> _emitted = [];
    private int _droppedLogLines;
    private bool _finished;
    private JsonNode? _event;
    private bool _eventParsed;
    private HttpClient? _http;
    private HandlerSteps? _steps;

    public JsonNode? Event
    {
        get
        {
            lock (_gate)
            {
                if (!_eventParsed)
                {
                    _event = eventJson.IsEmpty ? null : JsonText.ParseOrString(eventJson.Span);
                    _eventParsed = true;
                }

                return _event;
            }
        }
    }

    public HandlerMeta Meta { get; } = meta;

    /// <summary>In a batch's callback, the batch (its counts and its members' results); else null.</summary>
    public HandlerBatch? Batch { get; } = batch;

    public HttpClient Http
    {
        get
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(
                    _finished,
                    "Http: the run has finished; requests must complete before the handler returns");
                if (_steps?.Suspended is { } suspended) throw new HandlerSuspendedException(suspended);
                return _http ??= createHttp();
            }
        }
    }

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Host side: the trace's log lines (a snapshot), with a final note when lines were dropped.</summary>
    public IReadOnlyList<string> Logs
    {
        get
        {
            lock (_gate)
            {
                if (_logs.Count == 0)
                {
                    return [];
                }

                if (_droppedLogLines == 0)
                {
                    return [.. _logs];
                }

                // Keep the total at MaxLogLines: the last kept line makes room for the note.
                return [.. _logs.Take(MaxLogLines - 1), $"[{_droppedLogLines + 1} more log lines dropped]"];
            }
        }
    }

    /// <summary>Host side: the events this run emitted (a snapshot), in completion order.</summary>
    public IReadOnlyList<EmittedEvent> Emitted
    {
        get
        {
            lock (_gate)
            {
                return _emitted.Count == 0 ? [] : [.. _emitted];
            }
        }
    }

    /// <summary>
    /// Emits to a worker of this canvas now. Kept as its own overload, so code that takes <c>Emit</c> as a two-argument
    /// delegate still compiles.
    /// </summary>
    public Task<Guid> Emit(string worker, object? value) => Emit(worker, value, delay: null);

    /// <summary>
    /// Emits to a worker of this canvas: now, after <paramref name="delay"/>, or at <paramref name="runAt"/> (one of
    /// the two, up to 30 days ahead); with an <paramref name="orderingKey"/>, it runs after the events emitted to that
    /// worker earlier with the same key, one at a time. <paramref name="inBatch"/> adds it to this event's batch, which
    /// then waits for it too. Its id is made from this event's id and the emit's place in the run, so a run again (a
    /// retry, a redelivery) emits it once; an <paramref name="idempotencyKey"/> takes that place. With a
    /// <paramref name="debounce"/> (a key and a period), the emits of that key within the period collapse into one run,
    /// of the last, a period after the last emit (at most ten periods after the first): the id is that run's. A
    /// <paramref name="priority"/> of "high" starts it before the worker's waiting normal events, "low" after them.
    /// </summary>
    public async Task<Guid> Emit(
        string worker,
        object? value,
        TimeSpan? delay = null,
        DateTimeOffset? runAt = null,
        string? orderingKey = null,
        bool inBatch = false,
        string? idempotencyKey = null,
        (string key, TimeSpan period)? debounce = null,
        string? priority = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        ThrowIfFinished("Emit");
        var rank = priority switch
        {
            null or "normal" => Priority.Normal,
            "high" => Priority.High,
            "low" => Priority.Low,
            _ => throw new ArgumentException(
                "Emit refused: priority must be 'high', 'normal' (the default) or 'low'.", nameof(priority)),
        };
        var json = EventJson.Serialize(value, SerializerOptions, emitter.MaxEventBytes);
        var id = await emitter.EmitAsync(
                worker,
                json,
                new EmitOptions(delay, runAt, orderingKey, inBatch, idempotencyKey, HandlerSteps.Current,
                    debounce is { } d ? Debounce.Of(d.key, d.period) : null, rank),
                CancellationToken)
            .ConfigureAwait(false);
        Record(worker, id);
        return id;
    }

    /// <summary>
    /// Creates a batch of these events (API.md "Batches"), closed: <paramref name="onComplete"/> is emitted once when
    /// every one has a final status, <paramref name="onSuccess"/> too when every one completed. At most 1,000 events,
    /// 8 MiB of JSON with the callbacks; each counts as an emit of this run. Its id is made from this event's id and
    /// the emit's place in the run, as an <see cref="Emit"/>'s: a run again creates it once.
    /// </summary>
    public async Task<Guid> EmitBatch(
        IEnumerable<(string worker, object? value)> events,
        (string worker, object? value)? onComplete = null,
        (string worker, object? value)? onSuccess = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ThrowIfFinished("EmitBatch");
        var items = new List<BatchEmitItem>();
        var bytes = 0L;
        foreach (var (worker, value) in events)
        {
            if (items.Count == BatchLimits.MaxEvents)
                throw new ArgumentException(
                    $"EmitBatch refused: a batch holds at most {BatchLimits.MaxEvents} events.");
            items.Add(Item(worker, value, ref bytes));
        }
        var complete = onComplete is { } c ? Item(c.worker, c.value, ref bytes) : (BatchEmitItem?)null;
        var success = onSuccess is { } s ? Item(s.worker, s.value, ref bytes) : (BatchEmitItem?)null;
        var id = await emitter.EmitBatchAsync(items, complete, success, HandlerSteps.Current, CancellationToken)
            .ConfigureAwait(false);
        return id;
    }

    /// <summary>
    /// Runs <paramref name="run"/> once per event (API.md "Durable handlers"): its result is kept when it finishes, and
    /// every later run of the event (a retry, a redelivery, a resume) gets it back without running it. Keyed by
    /// <paramref name="name"/> and its occurrence in the run. Its emits happen once per finished step.
    /// </summary>
    public Task<T> Step<T>(string name, Func<Task<T>> run)
    {
        ThrowIfFinished("Step");
        return Steps.StepAsync(name, run, SerializerOptions);
    }

    /// <summary>A step without a result: it runs once per event, as <see cref="Step{T}"/>.</summary>
    public Task Step(string name, Func<Task> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        ThrowIfFinished("Step");
        return Steps.StepAsync<object?>(name, async () =>
        {
            await run().ConfigureAwait(false);
            return null;
        }, SerializerOptions);
    }

    /// <summary>
    /// Ends the run here and runs the event again from the top after <paramref name="duration"/> (at most 30 days),
    /// holding no slot meanwhile; there, this <c>Sleep</c> returns at once.
    /// </summary>
    public Task Sleep(TimeSpan duration)
    {
        ThrowIfFinished("Sleep");
        return Steps.SleepUntilAsync(DateTimeOffset.UtcNow + duration);
    }

    /// <summary>As <see cref="Sleep"/>, until <paramref name="until"/>.</summary>
    public Task SleepUntil(DateTimeOffset until)
    {
        ThrowIfFinished("SleepUntil");
        return Steps.SleepUntilAsync(until);
    }

    /// <summary>
    /// Ends the run here until the signal <paramref name="name"/> is sent to this event (or was sent before), then runs
    /// it again from the top, where this <c>WaitFor</c> returns the signal's value; null after
    /// <paramref name="timeout"/>.
    /// </summary>
    public Task<JsonNode?> WaitFor(string name, TimeSpan timeout)
    {
        ThrowIfFinished("WaitFor");
        return Steps.WaitForAsync(name, timeout);
    }

    /// <summary>Host side: where the run suspended (a Sleep or WaitFor), null if it did not.</summary>
    public Suspension? Suspended
    {
        get
        {
            lock (_gate) return _steps?.Suspended;
        }
    }

    /// <summary>Host side: the run's steps for its trace; empty when it used none.</summary>
    public IReadOnlyList<StepTrace> StepTraces
    {
        get
        {
            lock (_gate) return _steps?.Traces ?? [];
        }
    }

    private HandlerSteps Steps
    {
        get
        {
            lock (_gate) return _steps ??= new HandlerSteps(emitter, CancellationToken);
        }
    }

    private BatchEmitItem Item(string worker, object? value, ref long bytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        var json = EventJson.Serialize(value, SerializerOptions, emitter.MaxEventBytes);
        if ((bytes += json.Length) > BatchLimits.MaxBytes)
            throw new ArgumentException(
                $"EmitBatch refused: its events and callbacks are over {BatchLimits.MaxBytes} bytes of JSON together.");
        return new BatchEmitItem(worker, json);
    }

    private void ThrowIfFinished(string what)
    {
        lock (_gate)
        {
            // Work the handler left running (a task it never awaited) cannot emit on the event's behalf.
            if (_finished) throw new InvalidOperationException(
                $"{what} refused: the run of event {Meta.Id} has finished; await every {what} before the handler " +
                    "returns.");
            if (_steps?.Suspended is { } suspended) throw new HandlerSuspendedException(suspended);
        }
    }

    private void Record(string worker, Guid id)
    {
        lock (_gate)
        {
            _emitted.Add(new EmittedEvent(worker, id));
        }
    }

    public void Log(string text)
    {
        text ??= "";
        if (text.Length > MaxLogLineLength)
        {
            text = $"{text[..MaxLogLineLength]}… [truncated, {text.Length} chars]";
        }

        lock (_gate)
        {
            if (_logs.Count < MaxLogLines)
            {
                _logs.Add(text);
            }
            else
            {
                _droppedLogLines++;
            }
        }
    }

    /// <summary>
    /// Host side, after the run: disposes the <see cref="Http"/> client if the handler used one, and refuses
    /// <see cref="Http"/> and <see cref="Emit"/> from then on, to whatever the handler left running.
    /// </summary>
    public void Finish()
    {
        lock (_gate)
        {
            _finished = true;
            _http?.Dispose();
        }
    }

    /// <summary>
    /// Set by <see cref="CompiledHandler.RunAsync"/> so serializing script types does not pin an unloaded version.
    /// </summary>
    internal JsonSerializerOptions SerializerOptions { get; set; } = JsonSerializerOptions.Default;
}
