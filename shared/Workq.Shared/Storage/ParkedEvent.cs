using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>An event kept outside any queue: parked because its worker did not exist, or dead-lettered.</summary>
public sealed record ParkedEvent(long Seq, EventEnvelope Envelope, byte[] Body);
