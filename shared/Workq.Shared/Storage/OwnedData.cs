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

/// <summary>Likewise for a store that keeps rows per worker: called before the worker's registry row goes.</summary>
public interface IWorkerData
{
    /// <summary>
    /// Removes everything this store keeps for the worker; deleting what is already gone is no error.
    /// </summary>
    Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken);
}
