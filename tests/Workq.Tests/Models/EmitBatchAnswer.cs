namespace Workq.Tests.Models;

/// <summary>A batch emit's 202 answer, the ids in the batch's order (Workq.Client's own model is internal).</summary>
public sealed record EmitBatchAnswer(IReadOnlyList<Guid> Ids);
