namespace Workq.Worker.Isolation;

/// <summary>
/// What a runner wrote to stderr that tells why it died (<see cref="RunnerExits"/>): a stack overflow, running out of
/// memory, and its first lines. A stack overflow prints thousands of frames: the first lines and the cause matter.
/// </summary>
public sealed class RunnerStderr
{
    private const int LinesKept = 12;
    private const int LineLength = 500;

    private readonly List<string> lines = [];
    private readonly Lock gate = new();
    private bool stackOverflow;
    private bool outOfMemory;

    public void Add(string? line)
    {
        if (string.IsNullOrEmpty(line)) return;
        lock (gate)
        {
            stackOverflow |= line.Contains("Stack overflow", StringComparison.Ordinal);
            outOfMemory |= line.Contains("OutOfMemory", StringComparison.Ordinal)
                || line.Contains("Out of memory", StringComparison.OrdinalIgnoreCase);
            if (lines.Count < LinesKept) lines.Add(line.Length > LineLength ? line[..LineLength] : line);
        }
    }

    /// <summary>
    /// What it said so far: the lines kept, and whether it reported a stack overflow or running out of memory.
    /// </summary>
    public (string[] Lines, bool StackOverflow, bool OutOfMemory) Seen()
    {
        lock (gate) return ([.. lines], stackOverflow, outOfMemory);
    }
}
