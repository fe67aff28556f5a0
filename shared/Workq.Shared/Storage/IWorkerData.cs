namespace Workq.Shared.Storage;

/// <summary>
/// A store that keeps rows per worker deletes them itself when the worker goes: called before the worker's registry row
/// goes (see <see cref="ICanvasData"/>).
/// </summary>
public interface IWorkerData
{
    /// <summary>
    /// Removes everything this store keeps for the worker; deleting what is already gone is no error.
    /// </summary>
    Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken);
}
