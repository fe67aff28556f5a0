using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;

namespace Workq.Worker.Runs;

/// <summary>
/// One delivery to run: the handler's <c>Emit</c> goes through <paramref name="Emitter"/> (the worker's
/// HandlerEmitter) whichever host runs it. <paramref name="Suspect"/>: it was running when its canvas's runner
/// crashed (<see cref="EventHeaders.CrashSuspect"/>). <paramref name="Callback"/>: the batch a callback runs for.
/// </summary>
public sealed record HandlerRun(
    EventEnvelope Envelope,
    int Attempt,
    byte[] Body,
    IHandlerEmitter Emitter,
    TimeSpan Timeout,
    bool Suspect = false,
    BatchSummary? Callback = null);
