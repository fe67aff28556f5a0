namespace Workq.Tests.Models;

/// <summary>The answer to a redrive of dead letters or quarantined messages.</summary>
public sealed record RedriveAnswer(long Redriven);
