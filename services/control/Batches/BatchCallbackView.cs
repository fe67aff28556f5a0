using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Batches;

/// <summary>
/// A callback: its worker and its event's id, made from the batch's, known before it is emitted (the event has a status
/// once the batch finished).
/// </summary>
public sealed record BatchCallbackView(string Worker, Guid EventId);
