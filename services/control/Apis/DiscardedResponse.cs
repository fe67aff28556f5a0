namespace Workq.Control.Apis;

public sealed record DiscardedResponse(int Discarded);
