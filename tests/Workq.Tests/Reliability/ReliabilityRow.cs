namespace Workq.Tests.Reliability;

public sealed record ReliabilityRow(
    string Scenario,
    int Accepted,
    int Processed,
    int Duplicated,
    int DeadLettered,
    int Lost,
    string Notes);
