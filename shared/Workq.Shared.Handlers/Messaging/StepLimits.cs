namespace Workq.Shared.Handlers.Messaging;

/// <summary>The bounds of an event's durable state (API.md "Durable handlers").</summary>
public static class StepLimits
{
    /// <summary>Steps, sleeps and waits kept per event.</summary>
    public const int MaxSteps = 1_000;

    /// <summary>Every kept result of one event together.</summary>
    public const int MaxStateBytes = 4 * 1024 * 1024;

    /// <summary>WORKQ_MAX_STEP_BYTES's default: one step's result JSON.</summary>
    public const int DefaultMaxStepBytes = 256 * 1024;

    /// <summary>How far ahead a <c>Sleep</c> or a <c>WaitFor</c>'s time-out may end, as for a delayed emit.</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(30);

    /// <summary>Step and signal names: what a URL path segment and a log line hold without escaping.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Null when <paramref name="name"/> is a step or signal name; else why not.</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "the name is empty";
        if (name.Length > MaxNameLength) return $"the name is longer than {MaxNameLength} characters";
        // A URL path collapses these segments (API.md's signal route holds the name).
        if (name is "." or "..") return "'.' and '..' are not names";
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
                return $"'{c}' is not allowed: a name holds letters, digits, '-', '_', '.' and ':'";
        return null;
    }
}
