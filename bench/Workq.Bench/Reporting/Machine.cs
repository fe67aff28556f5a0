namespace Workq.Bench.Reporting;

public sealed record Machine(
    int Cores,
    long MemoryMb,
    string Os,
    string Kernel,
    string DotNet,
    string LoadAverageAtStart,
    string Note);
