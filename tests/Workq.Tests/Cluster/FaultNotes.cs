namespace Workq.Tests.Cluster;

/// <summary>What a broker fault did, as the fault itself tells it.</summary>
public sealed record FaultNotes(string Text);
