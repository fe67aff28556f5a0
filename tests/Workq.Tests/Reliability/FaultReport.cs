namespace Workq.Tests.Reliability;

/// <summary>
/// A table a fault suite prints, one row per scenario: every accepted event and where it ended. Kept in .run/, which
/// ./test.sh prints after the run.
/// </summary>
public sealed class FaultReport(string file, params string[] columns)
{
    /// <summary>The reliability suite's table (faults of this machine's servers and of worker processes).</summary>
    public static readonly FaultReport Reliability = new(
        "reliability.md",
        "scenario",
        "accepted (202)",
        "processed",
        "duplicated",
        "dead-lettered",
        "lost",
        "notes");

    /// <summary>
    /// The resurrection suite's table: what was under way when a canvas or worker was deleted, and what of it reached
    /// the new one.
    /// </summary>
    public static readonly FaultReport Resurrection = new(
        "resurrection.md",
        "scenario",
        "under way at the delete",
        "old rows in the new one",
        "old queues left",
        "old events run by the new one",
        "old deliveries dropped",
        "notes");

    /// <summary>
    /// The durable handlers' table: how many times a step's effect happened, counted at an HTTP sink, under each fault.
    /// </summary>
    public static readonly FaultReport Durable = new(
        "durable.md",
        "scenario",
        "events",
        "effects expected",
        "effects counted",
        "notes");

    private readonly ConcurrentQueue<string[]> rows = new();

    // Tests of two collections may add rows at once: one at a time, so the file always has every row.
    private readonly Lock writing = new();

    public string Path => System.IO.Path.Combine(RepoPaths.Root, ".run", file);

    public string Add(params string[] cells)
    {
        // The first and last columns are text (left-aligned), the others numbers (right-aligned).
        var rule = string.Concat(columns.Select((_, i) => i is 0 || i == columns.Length - 1 ? " --- |" : " ---: |"));
        lock (writing)
        {
            rows.Enqueue(cells);
            var table = $"| {string.Join(" | ", columns)} |\n|{rule}\n"
                + string.Concat(rows.Select(r => $"| {string.Join(" | ", r)} |\n"));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            File.WriteAllText(Path, table);
            return table;
        }
    }

    public string Add(ReliabilityRow r) =>
        Add(
            r.Scenario,
            $"{r.Accepted}",
            $"{r.Processed}",
            $"{r.Duplicated}",
            $"{r.DeadLettered}",
            $"{r.Lost}",
            r.Notes);
}
