namespace Workq.Control.Apis;

public sealed record CreatedCanvas(string Name, string Token);
