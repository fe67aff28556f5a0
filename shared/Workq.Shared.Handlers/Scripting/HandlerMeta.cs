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
    int Depth)
{
    // Not a constructor parameter: compiled handlers stored before it call the record's Deconstruct as it was.
    /// <summary>The batch the event belongs to (API.md "Batches"); null outside batches.</summary>
    public Guid? BatchId { get; init; }

    /// <summary>
    /// How many times the event has resumed from a <c>Sleep</c> or <c>WaitFor</c> (API.md "Durable handlers"); 0 on its
    /// first run.
    /// </summary>
    public int Resume { get; init; }
}
