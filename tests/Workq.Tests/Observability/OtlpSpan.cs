namespace Workq.Tests.Observability;

public sealed record OtlpSpan(
    string Service,
    string Scope,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<string> LinkedSpanIds)
{
    public const int Server = 2, Producer = 4, Consumer = 5;
}
