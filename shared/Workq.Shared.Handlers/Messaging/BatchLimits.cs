namespace Workq.Shared.Handlers.Messaging;

/// <summary>The bounds of a handler's <c>EmitBatch</c>.</summary>
public static class BatchLimits
{
    /// <summary>Events per <c>EmitBatch</c>, as per batch request of the API.</summary>
    public const int MaxEvents = 1_000;

    /// <summary>
    /// The JSON of an <c>EmitBatch</c>'s events and callbacks together: it travels from the runner as one frame.
    /// </summary>
    public const int MaxBytes = 8 * 1024 * 1024;

    /// <summary>Members per page of a callback's <c>Batch.Results()</c>.</summary>
    public const int ResultsPerPage = 1_000;
}
