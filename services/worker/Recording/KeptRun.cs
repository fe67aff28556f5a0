namespace Workq.Worker.Recording;

/// <summary>
/// What a run leaves for its trace and status once held to <c>WORKQ_MAX_TRACE_BYTES</c>; <see cref="Truncated"/> names
/// the fields cut.
/// </summary>
public sealed record KeptRun(
    string? ResultJson,
    string? ErrorType,
    string? ErrorMessage,
    IReadOnlyList<string> Logs,
    IReadOnlyList<string> Truncated)
{
    /// <summary>The error as the event's status keeps it: <c>"Type: message"</c>.</summary>
    public string? Error => ErrorType is null ? null : $"{ErrorType}: {ErrorMessage}";
}
