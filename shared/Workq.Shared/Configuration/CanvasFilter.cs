namespace Workq.Shared.Configuration;

/// <summary>
/// Which canvases a worker instance consumes (<c>WORKQ_CANVASES</c>): a comma-separated list of names
/// and simple globs where <c>*</c> stands for any run of characters; a pattern starting with <c>!</c>
/// excludes (so a default pool can leave a big canvas to a dedicated one). Empty means every canvas.
/// </summary>
public sealed class CanvasFilter
{
    public static readonly CanvasFilter All = new([]);

    private readonly string[] patterns;

    private CanvasFilter(string[] patterns) => this.patterns = patterns;

    public IReadOnlyList<string> Patterns => patterns;

    public static CanvasFilter Parse(string? list) =>
        string.IsNullOrWhiteSpace(list)
            ? All
            : new CanvasFilter(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public bool Matches(string canvas)
    {
        var hasInclusions = false;
        var included = false;
        foreach (var pattern in patterns)
        {
            if (pattern.StartsWith('!'))
            {
                if (Glob(pattern.AsSpan(1), canvas)) return false;
            }
            else
            {
                hasInclusions = true;
                included |= Glob(pattern, canvas);
            }
        }
        // Only exclusions: everything else is in the pool.
        return included || !hasInclusions;
    }

    // Names are case-sensitive everywhere else in Workq, so patterns are too.
    private static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        var star = pattern.IndexOf('*');
        if (star < 0) return pattern.SequenceEqual(text);
        if (!text.StartsWith(pattern[..star])) return false;
        var rest = pattern[(star + 1)..];
        text = text[star..];
        // Try every split for the star; names are at most 64 characters, so this stays small.
        for (var i = 0; i <= text.Length; i++)
            if (Glob(rest, text[i..])) return true;
        return false;
    }
}
