namespace Workq.Tests.Observability;

public sealed record OtlpPoint(
    string Service,
    string Metric,
    IReadOnlyDictionary<string, string> Attributes,
    double Value);
