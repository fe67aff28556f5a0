namespace Workq.Shared.Storage;

/// <summary>
/// A store that keeps rows per canvas deletes them itself when the canvas goes: no store deletes another's rows.
/// Control's canvas deletion calls every one, then deletes the canvas row last (docs/DESIGN.md, "Deleting").
/// </summary>
public interface ICanvasData
{
    /// <summary>
    /// Removes everything this store keeps for the canvas; deleting what is already gone is no error.
    /// </summary>
    Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken);
}
