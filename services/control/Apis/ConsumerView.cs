namespace Workq.Control.Apis;

public sealed record ConsumerView(string Canvas, string Worker, int Prefetch, int InFlight, string State);
