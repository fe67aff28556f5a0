namespace Workq.Control.Apis;

public sealed record RedrivenResponse(int Redriven);
