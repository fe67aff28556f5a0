namespace Workq.Control.Apis;

public sealed record CreateCanvasRequest(string? Name);
