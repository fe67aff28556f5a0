namespace Workq.Bench.Infrastructure;

/// <summary>
/// Waits for the machine to settle between scenarios (the broker keeps compacting and deleting the
/// last scenario's logs for a while), so no scenario pays for its predecessor. Reads /proc/stat.
/// </summary>
public static class Quiet
{
    private const double BusyAtMost = 0.15;
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static async Task WaitAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            var (busy0, total0) = Read();
            await Task.Delay(Window, cancellationToken);
            var (busy1, total1) = Read();
            if (total1 > total0 && (double)(busy1 - busy0) / (total1 - total0) <= BusyAtMost) return;
        }
        Console.Error.WriteLine(
            $"[bench] the machine did not settle below {BusyAtMost:P0} CPU within {Patience.TotalSeconds:0} s; going " +
                $"on");
    }

    /// <summary>Busy and total jiffies over all cores (idle and iowait count as not busy).</summary>
    private static (long Busy, long Total) Read()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(long.Parse)
            .ToArray();
        var total = fields.Take(8).Sum();
        var idle = fields[3] + fields[4];
        return (total - idle, total);
    }
}
