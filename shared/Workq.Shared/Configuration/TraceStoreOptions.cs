using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>What the worker keeps of each run (its trace), how many, and where.</summary>
public sealed class TraceStoreOptions
{
    /// <summary>
    /// What one run's trace keeps of its result, error and logs together, in UTF-8 bytes (each cut field marked).
    /// </summary>
    public int MaxTraceBytes { get; init; } = 65_536;
    public int TracesPerWorker { get; init; } = 10;
    /// <summary>
    /// Control and worker: keep traces in this MongoDB (<c>mongodb://</c> or <c>mongodb+srv://</c>) instead of
    /// PostgreSQL.
    /// </summary>
    public string? MongoDb { get; init; }

    public static TraceStoreOptions From(IConfiguration config)
    {
        var defaults = new TraceStoreOptions();
        return new TraceStoreOptions
        {
            MaxTraceBytes = Setting.Int(config, "WORKQ_MAX_TRACE_BYTES", defaults.MaxTraceBytes),
            TracesPerWorker = Setting.Int(config, "WORKQ_TRACES_PER_WORKER", defaults.TracesPerWorker),
            MongoDb = MongoDbUrl(config["WORKQ_TRACES_MONGODB"]),
        };
    }

    private static string? MongoDbUrl(string? raw) => raw switch
    {
        null or "" => null,
        _ when raw.StartsWith("mongodb://", StringComparison.Ordinal)
            || raw.StartsWith("mongodb+srv://", StringComparison.Ordinal) => raw,
        _ => throw new InvalidOperationException("WORKQ_TRACES_MONGODB must be a MongoDB URL "
            + "(mongodb://host:27017/workq), or unset to keep traces in PostgreSQL."),
    };
}
