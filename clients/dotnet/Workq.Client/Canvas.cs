namespace Workq.Client;

/// <summary>A canvas in <c>GET /v1/canvases</c>.</summary>
public sealed record Canvas(string Name, int Workers);
