using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>A delayed emit waiting for its time: what the publisher needs to enqueue it then.</summary>
public sealed record ScheduledEvent(EventEnvelope Envelope, DateTimeOffset RunAt, ReadOnlyMemory<byte> Body);
