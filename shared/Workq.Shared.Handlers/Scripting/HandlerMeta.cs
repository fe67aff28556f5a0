namespace Workq.Shared.Scripting;

// Handler code sees this type, and every compiled handler stored in PostgreSQL references it by its full name:
// its namespace is part of the contract (docs/API.md), older than the Workq.Shared.Handlers.* namespaces.
/// <summary>What a handler script knows about the event it runs for.</summary>
public sealed record HandlerMeta(
    Guid Id,
    string Canvas,
    string Worker,
    DateTimeOffset EnqueuedAt,
    int Attempt,
    int Depth);
