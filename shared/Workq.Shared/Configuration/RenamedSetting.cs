using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Workq.Shared.Configuration;

/// <summary>
/// A <c>WORKQ_*</c> variable given a new name: the old one still works for one release, and the service says so at
/// start.
/// </summary>
public sealed record RenamedSetting(string OldName, string NewName)
{
    /// <summary>Every renamed variable; an entry leaves this list one release after it came.</summary>
    public static readonly IReadOnlyList<RenamedSetting> All =
    [
        new("WORKQ_HANDLER_TIMEOUT", "WORKQ_HANDLER_TIMEOUT_SECONDS"),
        new("WORKQ_COMPILE_TIMEOUT", "WORKQ_COMPILE_TIMEOUT_SECONDS"),
        new("WORKQ_METRICS_RETENTION_MINUTES_HOURS", "WORKQ_METRICS_MINUTE_RETENTION_HOURS"),
        new("WORKQ_METRICS_RETENTION_HOURS_DAYS", "WORKQ_METRICS_HOUR_RETENTION_DAYS"),
        new("WORKQ_EVENT_STATUS_HOURS", "WORKQ_EVENT_STATUS_RETENTION_HOURS"),
        new("WORKQ_RECONCILE_SECONDS", "WORKQ_RECONCILE_INTERVAL_SECONDS"),
        new("WORKQ_UNHANDLED_MAX_PER_WORKER", "WORKQ_MAX_UNHANDLED_PER_WORKER"),
        new("WORKQ_DEAD_LETTERS_MAX_PER_WORKER", "WORKQ_MAX_DEAD_LETTERS_PER_WORKER"),
    ];

    /// <summary>
    /// The value of <paramref name="name"/>, or of its old name when only that is set, with the variable it came
    /// from (so that an error names the variable the operator wrote).
    /// </summary>
    public static (string Name, string? Value) Read(IConfiguration config, string name)
    {
        if (config[name] is { Length: > 0 } value) return (name, value);
        foreach (var renamed in All)
        {
            if (renamed.NewName == name && config[renamed.OldName] is { Length: > 0 } old)
                return (renamed.OldName, old);
        }
        return (name, null);
    }

    /// <summary>One warning per old name that is set: its new name, or that it is ignored beside it.</summary>
    public static IReadOnlyList<string> Warnings(IConfiguration config) =>
        [.. All.Where(renamed => config[renamed.OldName] is { Length: > 0 })
            .Select(renamed => renamed.Warning(config))];

    private string Warning(IConfiguration config) => config[NewName] is { Length: > 0 }
        ? $"{OldName} is ignored: it was renamed {NewName}, which is set too; remove {OldName}."
        : $"{OldName} was renamed {NewName}: the old name works in this release only; rename it.";

    /// <summary>Logs <see cref="Warnings"/> at start, one line each.</summary>
    public static void LogWarnings(IConfiguration config, ILogger logger)
    {
        foreach (var warning in Warnings(config)) logger.LogWarning("Renamed setting: {Warning}", warning);
    }
}
