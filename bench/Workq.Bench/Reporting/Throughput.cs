namespace Workq.Bench.Reporting;

/// <summary>Messages moved end to end (published, confirmed, consumed, acked) and how long it took.</summary>
public sealed record Throughput(long Messages, double Seconds, double PublishSeconds)
{
    public double PerSecond => Math.Round(Messages / Seconds, 1);
}
