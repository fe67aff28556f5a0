namespace Workq.Shared.Storage;

/// <summary>The un-enqueue marks a worker instance reloads (<see cref="CancelledEventStore"/>).</summary>
public interface ICancelledMarks
{
    /// <summary>
    /// The ids cancelled since <paramref name="since"/> (the store's clock), or, when it is null, every id cancelled
    /// within <see cref="CancelledEventStore.KeepFor"/> (older ones are forgotten); with the store's time of the read.
    /// </summary>
    Task<CancelledMarks> ReadAsync(DateTimeOffset? since, CancellationToken cancellationToken);
}
