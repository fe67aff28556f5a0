using System.Collections.Concurrent;

namespace Workq.Tests.Reliability;

public sealed record ReliabilityRow(string Scenario, int Accepted, int Processed, int Duplicated, int DeadLettered, int Lost, string Notes);

/// <summary>The table the reliability suite prints: every scenario's accepted events and where each one ended.</summary>
public static class ReliabilityReport
{
    private static readonly ConcurrentQueue<ReliabilityRow> Rows = new();

    /// <summary>./test.sh prints this file after the run.</summary>
    public static string Path => System.IO.Path.Combine(Infrastructure.RepoPaths.Root, ".run", "reliability.md");

    public static string Add(ReliabilityRow row)
    {
        Rows.Enqueue(row);
        var table = Render();
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        File.WriteAllText(Path, table);
        return table;
    }

    private static string Render() =>
        "| scenario | accepted (202) | processed | duplicated | dead-lettered | lost | notes |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n" +
        string.Concat(Rows.Select(r => $"| {r.Scenario} | {r.Accepted} | {r.Processed} | {r.Duplicated} | {r.DeadLettered} | {r.Lost} | {r.Notes} |\n"));
}
