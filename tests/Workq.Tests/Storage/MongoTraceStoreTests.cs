using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>
/// The trace store contract on MongoDB. No MongoDB server can be installed on our machines, so CI reports these
/// skipped.
/// </summary>
[RequiresVariable(
    MongoTraceDatabase.Variable,
    "set WORKQ_TEST_MONGODB=mongodb://... to run the MongoDB trace store contract")]
public sealed class MongoTraceStoreTests(MongoTraceDatabase database) :
    TraceStoreContract,
    IClassFixture<MongoTraceDatabase>
{
    protected override ITraceStore Store => database.Store!;
}
