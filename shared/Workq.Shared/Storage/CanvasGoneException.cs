namespace Workq.Shared.Storage;

/// <summary>
/// The canvas (of that incarnation) is deleted or being deleted: what was to be written for it is not.
/// </summary>
public sealed class CanvasGoneException(string canvas) : Exception($"There is no canvas '{canvas}'.")
{
    public string Canvas => canvas;
}
