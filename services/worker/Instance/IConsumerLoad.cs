namespace Workq.Worker.Instance;

/// <summary>What the load report reads of one consumer (a WorkerConsumer): its counters, nothing per event.</summary>
public interface IConsumerLoad
{
    string Canvas { get; }
    string Worker { get; }
    int Concurrency { get; }

    /// <summary>Deliveries handed to the handler and not finished yet.</summary>
    int InFlight { get; }

    /// <summary>True once cancelled: it drains what runs.</summary>
    bool IsCancelled { get; }
}
