namespace Workq.Shared.Storage;

/// <summary>
/// Which quarantined messages a list, redrive or discard means; every part is optional and they all apply.
/// </summary>
public sealed record QuarantineFilter(string? Source = null, string? Canvas = null);
