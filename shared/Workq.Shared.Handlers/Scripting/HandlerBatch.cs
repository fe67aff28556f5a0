using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Workq.Shared.Handlers;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Shared.Scripting;

// Handler code sees this type (a callback's Batch global): its namespace is part of the contract, as HandlerMeta's.
/// <summary>
/// The batch a callback runs for (API.md "Batches"): its counts when it finished, and its members' results.
/// <c>Failed</c> counts the failed, timed-out and dead-lettered members.
/// </summary>
public sealed class HandlerBatch(
    Guid id,
    int total,
    int completed,
    int failed,
    int cancelled,
    IHandlerEmitter source)
{
    public Guid Id { get; } = id;
    public int Total { get; } = total;
    public int Completed { get; } = completed;
    public int Failed { get; } = failed;
    public int Cancelled { get; } = cancelled;

    /// <summary>
    /// Every member, in the order they ended, with its final status and its result (JSON, null when it has none) or
    /// its error; read a page at a time.
    /// </summary>
    public async IAsyncEnumerable<(Guid Id, string Worker, string Status, JsonNode? Result, string? Error)> Results(
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = 0L;
        while (after >= 0)
        {
            var page = await source.BatchResultsAsync(after, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
                yield return (item.Id, item.Worker, item.Status,
                    item.ResultJson is null ? null : JsonText.ParseOrString(item.ResultJson), item.Error);
            after = page.Next;
        }
    }
}
