using System.Globalization;
using System.Text.Json.Nodes;

namespace Workq.Cli;

/// <summary>
/// Plain aligned text: columns padded with two spaces, no colours or borders, so output is stable for scripts and
/// tests.
/// </summary>
internal static class TextTable
{
    public static void Write(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, column) => all.Max(row => row[column].Length)).ToArray();
        foreach (var row in all)
            output.WriteLine(string.Join(
                "  ",
                row.Select(
                    (cell, column) => column == row.Count - 1 ? cell : cell.PadRight(widths[column]))).TrimEnd());
    }

    /// <summary>Label/value lines for one object.</summary>
    public static void WritePairs(TextWriter output, IEnumerable<(string Label, string Value)> pairs)
    {
        var list = pairs.ToList();
        var width = list.Max(p => p.Label.Length);
        foreach (var (label, value) in list) output.WriteLine($"{(label + ":").PadRight(width + 1)}  {value}");
    }

    public static string Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Compact JSON for a cell; strings show bare, and long values are cut.</summary>
    public static string Json(JsonNode? node, int max = 60)
    {
        var text = node is JsonValue value && value.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "null";
        text = WorkqCli.OneLine(text);
        return text.Length > max ? text[..(max - 1)] + "…" : text;
    }
}
