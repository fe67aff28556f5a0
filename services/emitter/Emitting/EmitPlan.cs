using Workq.Shared.Handlers;

namespace Workq.Emitter.Emitting;

/// <summary>
/// What an emit does with its items, decided apart from the stores and the broker (<see cref="EventEmitter"/> carries
/// it out): each item's id, the idempotency keys to claim, and, once they are claimed, which items answer with the id
/// their key already had.
/// </summary>
public sealed class EmitPlan
{
    private readonly string?[] keys;

    private EmitPlan(DateTimeOffset enqueuedAt, Emitted[] results, bool[] publish, string?[] keys,
        List<(string Key, Guid Id)> claims)
    {
        (EnqueuedAt, Results, Publish, this.keys, Claims) = (enqueuedAt, results, publish, keys, claims);
    }

    /// <summary>The enqueue time of every new event.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>The answer: each item's id and enqueue time.</summary>
    public Emitted[] Results { get; }

    /// <summary>
    /// Which items are new events, to publish (or, when delayed, to store); the others answer with another item's id.
    /// </summary>
    public bool[] Publish { get; }

    /// <summary>
    /// The keys this emit claims, with the id each would give; <see cref="Claimed"/> drops those another emit had.
    /// </summary>
    public List<(string Key, Guid Id)> Claims { get; }

    /// <summary>
    /// A new id per item, all made at one enqueue time in microseconds (what PostgreSQL and the message headers keep,
    /// so a replayed answer is identical). An idempotency key given twice in the batch is one event with one id. Keys
    /// are compared as stored: two that differ only where the store's rule maps them alike are one key, here as there.
    /// </summary>
    public static EmitPlan Create(IReadOnlyList<BatchItem> items, DateTimeOffset now)
    {
        var enqueuedAt = now.AddTicks(-(now.Ticks % 10));
        var results = new Emitted[items.Count];
        for (var i = 0; i < items.Count; i++) results[i] = new Emitted(Guid.CreateVersion7(enqueuedAt), enqueuedAt);
        var publish = new bool[items.Count];
        Array.Fill(publish, true);
        var keys = new string?[items.Count];
        var claims = new List<(string Key, Guid Id)>();
        var firstIndexOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            if ((keys[i] = TenantText.Store(items[i].IdempotencyKey)) is not { } key) continue;
            if (firstIndexOfKey.TryGetValue(key, out var first))
            {
                results[i] = results[first];
                publish[i] = false;
                continue;
            }
            firstIndexOfKey[key] = i;
            claims.Add((key, results[i].Id));
        }
        return new EmitPlan(enqueuedAt, results, publish, keys, claims);
    }

    /// <summary>
    /// The keys' owners after the claim: an item whose key another emit owns answers with that emit's id and time, and
    /// is not published; its claim is not this emit's to give back.
    /// </summary>
    public void Claimed(IReadOnlyDictionary<string, (Guid Id, DateTimeOffset EnqueuedAt)> owners)
    {
        for (var i = 0; i < Results.Length; i++)
        {
            if (keys[i] is not { } key || !owners.TryGetValue(key, out var owner) || owner.Id == Results[i].Id)
                continue;
            Results[i] = new Emitted(owner.Id, owner.EnqueuedAt);
            Publish[i] = false;
        }
        Claims.RemoveAll(c => owners.TryGetValue(c.Key, out var owner) && owner.Id != c.Id);
    }
}
