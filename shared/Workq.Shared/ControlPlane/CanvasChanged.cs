namespace Workq.Shared.ControlPlane;

/// <summary>A canvas was created or deleted.</summary>
public sealed record CanvasChanged(string Canvas, bool Deleted);
