namespace Workq.Bench.Scenarios;

/// <summary>
/// The event as a MassTransit message: the same fields as the raw payload (MassTransit wraps it in its envelope).
/// </summary>
public sealed record BenchOrder(int Order, string Customer, decimal Amount, string Currency, string Note);
