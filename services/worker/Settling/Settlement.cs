using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Runs;

namespace Workq.Worker.Settling;

/// <summary>
/// What to do with a delivery after its run: the one settle decision, for unkeyed deliveries and ordering lanes
/// alike. <see cref="Attempt"/> is the attempt it runs as next (<see cref="SettleVerdict.RunAgain"/>) or the one
/// it is dead-lettered at; <see cref="Suspect"/> says it runs again alone; <see cref="Delay"/> is how long it
/// waits first; <see cref="Reason"/> is the dead letter's reason, or the crash a suspect is marked with.
/// </summary>
public sealed record Settlement(
    SettleVerdict Verdict, int Attempt, bool Suspect = false, TimeSpan Delay = default, string? Reason = null)
{
    /// <summary>How long a lane waits before running again an event its canvas's runner could not take.</summary>
    public static readonly TimeSpan InLaneRequeuePause = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Pure: the same run and delivery always settle the same way. A lane never gives an event back alone (that
    /// would put it behind its successors), so what the unkeyed path leaves to the broker (redelivery, its
    /// delivery limit) a lane does in place.
    /// </summary>
    public static Settlement Decide(RunResult run, DeliveryState delivery)
    {
        var attempt = delivery.Attempt;
        var requeues = delivery.Requeues + 1;
        return run.Outcome switch
        {
            RunOutcome.ShuttingDown => new(SettleVerdict.GiveBack, attempt),
            RunOutcome.Requeue when !delivery.InLane => new(SettleVerdict.GiveBack, attempt),
            RunOutcome.Requeue when requeues < Topology.DeliveryLimit =>
                new(SettleVerdict.RunAgain, attempt, delivery.Suspect, InLaneRequeuePause),
            RunOutcome.Requeue =>
                DeadLetter(attempt, $"could not be run {requeues} times in a row: {run.Error}"),
            // It ran beside other events of its canvas when their runner crashed: again, alone, so that a crash
            // then is its own.
            RunOutcome.Suspect => new(SettleVerdict.RunAgain, attempt + 1, Suspect: true, Reason: run.Error),
            // It crashed a runner it had to itself: running it again would crash it again.
            RunOutcome.Crashed => DeadLetter(attempt,
                $"{run.Error}; it crashed its canvas's runner twice, the second time running alone"),
            RunOutcome.Completed => new(SettleVerdict.Ack, attempt),
            _ when delivery.Retry is { } policy && attempt < policy.MaxAttempts =>
                new(SettleVerdict.RunAgain, attempt + 1, Delay: Backoff(policy, attempt)),
            _ when delivery.Retry is not null =>
                DeadLetter(attempt, $"retries exhausted after {attempt} attempts; last error: {run.Error}"),
            _ => new(SettleVerdict.Ack, attempt),
        };
    }

    private static Settlement DeadLetter(int attempt, string reason) =>
        new(SettleVerdict.DeadLetter, attempt, Reason: reason);

    /// <summary>
    /// The wait after a failed attempt: the policy's entry for it, its last entry past the end, none when it has none.
    /// </summary>
    private static TimeSpan Backoff(RetryPolicy policy, int attempt) => policy.BackoffSeconds.Length == 0
        ? TimeSpan.Zero
        : TimeSpan.FromSeconds(policy.BackoffSeconds[Math.Min(attempt - 1, policy.BackoffSeconds.Length - 1)]);
}
