namespace Workq.Control.Apis;

public sealed record BlockRequest(string? Reason);
