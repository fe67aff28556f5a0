using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Instance;
using Workq.Worker.Settling;

namespace Workq.Worker.Consuming;

/// <summary>What a consumer needs besides its queue: shared per instance.</summary>
public sealed record ConsumerServices(
    BrokerConnection Broker,
    EventRunner Runner,
    RetryScheduler Retries,
    CancelledEvents Cancelled,
    ConsumerLoads Loads,
    IRateBuckets RateBuckets,
    EventStatusRecorder Statuses,
    BatchFinishes BatchFinishes,
    StepStore Steps,
    PriorityOptions Priorities,
    QueueProbe Queues,
    TimeProvider Time);
