using Microsoft.Extensions.Logging;
using MongoDB.Bson;
using MongoDB.Bson.Serialization.Attributes;
using MongoDB.Driver;
using Workq.Shared.Storage;

namespace Workq.Traces.MongoDb;

/// <summary>
/// Traces in MongoDB (<c>WORKQ_TRACES_MONGODB</c>): one collection, <c>traces</c>, in the URL's database (default
/// <c>workq</c>). The trace JSON is kept as the string it was written as, so the API answers with the same bytes as
/// from PostgreSQL. A batch costs one insert, one probe per worker it touched, and one bulk delete.
/// </summary>
public sealed class MongoTraceStore : ITraceStore, IDisposable
{
    public const string DefaultDatabase = "workq";
    public const string CollectionName = "traces";

    private readonly MongoClient client;
    private readonly IMongoCollection<TraceDocument> traces;
    private readonly ILogger<MongoTraceStore> logger;
    private readonly SemaphoreSlim indexing = new(1, 1);
    private volatile bool indexed;

    public MongoTraceStore(MongoUrl url, ILogger<MongoTraceStore> logger)
    {
        client = new MongoClient(url);
        traces = client.GetDatabase(url.DatabaseName ?? DefaultDatabase).GetCollection<TraceDocument>(CollectionName);
        this.logger = logger;
    }

    /// <summary>For /readyz: the server answers a ping within the check's time-out.</summary>
    public async Task PingAsync(CancellationToken cancellationToken) =>
        await traces.Database
            .RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: cancellationToken);

    private static FilterDefinitionBuilder<TraceDocument> Filter => Builders<TraceDocument>.Filter;

    // The order the API lists in, newest first; the id (made in batch order) breaks ties as PostgreSQL's seq does.
    private static readonly SortDefinition<TraceDocument> NewestFirst =
        Builders<TraceDocument>.Sort.Descending(t => t.FinishedAt).Descending(t => t.Id);

    public async Task AppendAsync(
        IReadOnlyCollection<TraceEntry> entries,
        int keepPerWorker,
        CancellationToken cancellationToken)
    {
        if (entries.Count == 0) return;
        var collection = await CollectionAsync(cancellationToken);
        await collection.InsertManyAsync(
            entries.Select(TraceDocument.From),
            new InsertManyOptions { IsOrdered = false },
            cancellationToken);

        var touched = entries.Select(t => (t.Canvas, t.Worker)).Distinct();
        var trims = await Task.WhenAll(
            touched.Select(w => TrimAsync(collection, w.Canvas, w.Worker, keepPerWorker, cancellationToken)));
        var deletes = trims.OfType<WriteModel<TraceDocument>>().ToList();
        if (deletes.Count > 0) await collection.BulkWriteAsync(
            deletes,
            new BulkWriteOptions { IsOrdered = false },
            cancellationToken);
    }

    /// <summary>
    /// Deletes the worker's traces from its (keep+1)th newest on, or null when it has no more than it keeps.
    /// </summary>
    private static async Task<DeleteManyModel<TraceDocument>?> TrimAsync(
        IMongoCollection<TraceDocument> collection,
        string canvas,
        string worker,
        int keep,
        CancellationToken cancellationToken)
    {
        var ofWorker = OfWorker(canvas, worker);
        var firstDropped = await collection.Find(ofWorker).Sort(NewestFirst).Skip(keep).Limit(1)
            .Project(t => new { t.FinishedAt, t.Id }).FirstOrDefaultAsync(cancellationToken);
        if (firstDropped is null) return null;
        return new DeleteManyModel<TraceDocument>(ofWorker & (Filter.Lt(t => t.FinishedAt, firstDropped.FinishedAt)
            | (Filter.Eq(t => t.FinishedAt, firstDropped.FinishedAt) & Filter.Lte(t => t.Id, firstDropped.Id))));
    }

    public async Task<IReadOnlyList<string>> ListAsync(
        string canvas,
        string worker,
        int limit,
        CancellationToken cancellationToken)
    {
        var collection = await CollectionAsync(cancellationToken);
        return await collection.Find(OfWorker(canvas, worker)).Sort(NewestFirst).Limit(limit).Project(t => t.Json)
            .ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<(string Worker, string Json)>> FindAsync(
        string canvas,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        var collection = await CollectionAsync(cancellationToken);
        var found = await collection.Find(Filter.Eq(t => t.Canvas, canvas) & Filter.Eq(t => t.EventId, eventId))
            .Sort(NewestFirst)
            .Project(t => new { t.Worker, t.Json })
            .ToListAsync(cancellationToken);
        return found.Select(f => (f.Worker, f.Json)).ToList();
    }

    public async Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken)
    {
        var collection = await CollectionAsync(cancellationToken);
        await collection.DeleteManyAsync(Filter.Eq(t => t.Canvas, canvas), cancellationToken);
    }

    public async Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        var collection = await CollectionAsync(cancellationToken);
        await collection.DeleteManyAsync(OfWorker(canvas, worker), cancellationToken);
    }

    private static FilterDefinition<TraceDocument> OfWorker(string canvas, string worker) =>
        Filter.Eq(t => t.Canvas, canvas) & Filter.Eq(t => t.Worker, worker);

    /// <summary>
    /// The collection, its indexes made on first use rather than at start: a MongoDB that is still starting fails the
    /// first calls (the recorder retries its batch) instead of stopping the service. Creating an existing index is a
    /// no-op.
    /// </summary>
    private async Task<IMongoCollection<TraceDocument>> CollectionAsync(CancellationToken cancellationToken)
    {
        if (indexed) return traces;
        await indexing.WaitAsync(cancellationToken);
        try
        {
            if (indexed) return traces;
            var keys = Builders<TraceDocument>.IndexKeys;
            await traces.Indexes.CreateManyAsync(
            [
                // Lists, keep-last-N and deletes: a worker's traces newest first.
                new CreateIndexModel<TraceDocument>(keys.Ascending(t => t.Canvas).Ascending(t => t.Worker)
                    .Descending(t => t.FinishedAt)
                    .Descending(t => t.Id),
                    new CreateIndexOptions { Name = "traces_by_worker" }),
                // The event lookup, always within one canvas.
                new CreateIndexModel<TraceDocument>(
                    keys.Ascending(t => t.Canvas).Ascending(t => t.EventId),
                    new CreateIndexOptions { Name = "traces_by_event" }),
            ], cancellationToken);
            indexed = true;
            logger.LogInformation(
                "Traces are kept in MongoDB, database {Database}, collection {Collection}",
                traces.Database.DatabaseNamespace.DatabaseName,
                CollectionName);
            return traces;
        }
        finally
        {
            indexing.Release();
        }
    }

    public void Dispose()
    {
        client.Dispose();
        indexing.Dispose();
    }
}

/// <summary>One trace as stored: the keys it is found by, and the trace JSON as written.</summary>
internal sealed class TraceDocument
{
    [BsonId]
    public ObjectId Id { get; init; }

    [BsonElement("canvas")]
    public required string Canvas { get; init; }

    [BsonElement("worker")]
    public required string Worker { get; init; }

    [BsonElement("eventId"), BsonGuidRepresentation(GuidRepresentation.Standard)]
    public required Guid EventId { get; init; }

    [BsonElement("finishedAt"), BsonDateTimeOptions(Kind = DateTimeKind.Utc)]
    public required DateTime FinishedAt { get; init; }

    [BsonElement("trace")]
    public required string Json { get; init; }

    // Ids are made here, in batch order, so that traces finished in the same millisecond list in the order they were
    // written.
    public static TraceDocument From(TraceEntry entry) => new()
    {
        Id = ObjectId.GenerateNewId(),
        Canvas = entry.Canvas,
        Worker = entry.Worker,
        EventId = entry.EventId,
        FinishedAt = entry.FinishedAt.UtcDateTime,
        Json = entry.Json,
    };
}
