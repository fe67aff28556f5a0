namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// When a handler's emit is to run: after <c>Delay</c>, or at <c>RunAt</c>, or (neither) now; and, with an
/// <c>OrderingKey</c>, after the events emitted earlier with the same key (API.md "Ordering keys").
/// </summary>
public readonly record struct EmitWhen(TimeSpan? Delay, DateTimeOffset? RunAt, string? OrderingKey = null)
{
    public static readonly EmitWhen Now = default;
}
