namespace Workq.Bench.Reporting;

public sealed record ScaleResult(
    int Canvases,
    int Workers,
    double DeploySeconds,
    double AllConsumingSeconds,
    double WorkerRssBeforeMb,
    double WorkerRssAfterMb,
    int ListWorkers,
    Latencies List,
    Throughput Spread,
    double DeleteSeconds);
