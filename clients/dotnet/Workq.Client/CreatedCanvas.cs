namespace Workq.Client;

/// <summary>The 201 answer to creating a canvas: its token is shown this once.</summary>
public sealed record CreatedCanvas(string Name, string Token);
