using System.Text.RegularExpressions;

namespace Workq.Shared;

/// <summary>Canvas, worker and cron names: one rule for all (API.md "Names and errors").</summary>
public static partial class Names
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public const string Rule = "letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters";
}
