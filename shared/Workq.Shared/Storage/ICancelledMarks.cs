namespace Workq.Shared.Storage;

/// <summary>The un-enqueue marks a worker instance reloads (<see cref="CancelledEventStore"/>).</summary>
public interface ICancelledMarks
{
    /// <summary>The ids cancelled within <see cref="CancelledEventStore.KeepFor"/>; older ones are forgotten.</summary>
    Task<IReadOnlyList<(string Canvas, string Worker, Guid Id)>> RecentAsync(CancellationToken cancellationToken);
}
