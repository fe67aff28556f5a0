namespace Workq.Shared.Handlers.Isolation;

/// <summary>How a relayed request ended, when it did not end well (<see cref="HttpEndFrame"/>).</summary>
public enum HttpFailure : byte
{
    None,
    /// <summary>
    /// Thrown in the handler as <see cref="HttpRequestException"/> with the message (a refusal, a connection error, a
    /// cap).
    /// </summary>
    Request,
    /// <summary>
    /// Thrown as <see cref="TaskCanceledException"/>: the run's time-out, or the handler's own token.
    /// </summary>
    Cancelled,
}
