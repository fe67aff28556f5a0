using Workq.Shared.Storage;

namespace Workq.Worker.Settling;

/// <summary>
/// What is known of a delivery when its run ends: the attempt it ran as, the worker's retry policy at that moment,
/// whether it came on an ordering lane, whether it ran alone as a crash suspect, and (in a lane) how many runs of it
/// its canvas's runner could not take before this one.
/// </summary>
public readonly record struct DeliveryState(
    int Attempt, RetryPolicy? Retry, bool InLane, bool Suspect = false, int Requeues = 0);
