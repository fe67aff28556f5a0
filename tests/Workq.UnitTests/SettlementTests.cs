using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Runs;
using Workq.Worker.Settling;

namespace Workq.UnitTests;

/// <summary>
/// The settle decision as a table: each row is a run's outcome and what is known of its delivery, and what becomes
/// of it. The unkeyed path and the ordering lanes read the same table; they differ only where a lane must not give
/// an event back alone.
/// </summary>
public sealed class SettlementTests
{
    private static readonly RetryPolicy ThreeAttempts = new(3, [5, 30]);

    public static TheoryData<string, RunOutcome, int, bool, bool, SettleVerdict, int, bool, int> Rows => new()
    {
        // name, outcome, attempt, retry policy (3 attempts, backoff 5s then 30s), in a lane,
        // verdict, attempt next (or dead-lettered at), runs alone, delay in seconds
        { "completed", RunOutcome.Completed, 1, false, false, SettleVerdict.Ack, 1, false, 0 },
        { "completed with a policy", RunOutcome.Completed, 2, true, true, SettleVerdict.Ack, 2, false, 0 },
        { "failed, no policy", RunOutcome.Failed, 1, false, false, SettleVerdict.Ack, 1, false, 0 },
        { "timed out, no policy, lane", RunOutcome.TimedOut, 1, false, true, SettleVerdict.Ack, 1, false, 0 },
        { "failed, first attempt", RunOutcome.Failed, 1, true, false, SettleVerdict.RunAgain, 2, false, 5 },
        { "failed, second attempt", RunOutcome.Failed, 2, true, false, SettleVerdict.RunAgain, 3, false, 30 },
        { "timed out, first attempt, lane", RunOutcome.TimedOut, 1, true, true, SettleVerdict.RunAgain, 2, false, 5 },
        { "failed, last attempt", RunOutcome.Failed, 3, true, false, SettleVerdict.DeadLetter, 3, false, 0 },
        { "failed after the last, lane", RunOutcome.Failed, 4, true, true, SettleVerdict.DeadLetter, 4, false, 0 },
        { "shutting down", RunOutcome.ShuttingDown, 1, true, false, SettleVerdict.GiveBack, 1, false, 0 },
        { "shutting down, lane", RunOutcome.ShuttingDown, 2, false, true, SettleVerdict.GiveBack, 2, false, 0 },
        { "runner could not take it", RunOutcome.Requeue, 1, true, false, SettleVerdict.GiveBack, 1, false, 0 },
        { "runner could not take it, lane", RunOutcome.Requeue, 1, true, true, SettleVerdict.RunAgain, 1, false, 1 },
        { "crash suspect", RunOutcome.Suspect, 1, false, false, SettleVerdict.RunAgain, 2, true, 0 },
        { "crash suspect, lane, last attempt", RunOutcome.Suspect, 3, true, true, SettleVerdict.RunAgain, 4, true, 0 },
        { "crashed alone", RunOutcome.Crashed, 2, true, false, SettleVerdict.DeadLetter, 2, false, 0 },
        { "crashed alone, lane", RunOutcome.Crashed, 2, false, true, SettleVerdict.DeadLetter, 2, false, 0 },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Decides_by_the_table(string row, RunOutcome outcome, int attempt, bool withPolicy, bool inLane,
        SettleVerdict verdict, int attemptNext, bool alone, int delaySeconds)
    {
        var settlement = Settlement.Decide(new RunResult(outcome, "boom"),
            new DeliveryState(attempt, withPolicy ? ThreeAttempts : null, inLane));

        Assert.True(verdict == settlement.Verdict, $"{row}: {settlement.Verdict}, not {verdict}");
        Assert.Equal(attemptNext, settlement.Attempt);
        Assert.Equal(alone, settlement.Suspect);
        Assert.Equal(TimeSpan.FromSeconds(delaySeconds), settlement.Delay);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void A_policy_without_backoff_retries_at_once(int attempt)
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Failed, "boom"),
            new DeliveryState(attempt, new RetryPolicy(9, []), false));
        Assert.Equal(SettleVerdict.RunAgain, settlement.Verdict);
        Assert.Equal(TimeSpan.Zero, settlement.Delay);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(7, 4)]
    public void Past_the_end_of_the_backoff_list_its_last_entry_holds(int attempt, int delaySeconds)
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Failed, "boom"),
            new DeliveryState(attempt, new RetryPolicy(10, [1, 2, 4]), false));
        Assert.Equal(TimeSpan.FromSeconds(delaySeconds), settlement.Delay);
    }

    [Fact]
    public void Exhausted_retries_name_the_attempts_and_the_last_error()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.TimedOut, "took too long"),
            new DeliveryState(3, ThreeAttempts, false));
        Assert.Equal("retries exhausted after 3 attempts; last error: took too long", settlement.Reason);
    }

    [Fact]
    public void A_crash_running_alone_is_dead_lettered_with_the_crash()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Crashed, "exit 139"),
            new DeliveryState(2, null, true));
        Assert.Equal("exit 139; it crashed its canvas's runner twice, the second time running alone",
            settlement.Reason);
    }

    [Fact]
    public void A_suspect_runs_again_marked_with_its_crash()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Suspect, "runner killed"),
            new DeliveryState(1, null, false));
        Assert.Equal("runner killed", settlement.Reason);
    }

    [Fact]
    public void A_retry_after_a_suspect_run_no_longer_runs_alone()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Failed, "boom"),
            new DeliveryState(2, ThreeAttempts, true, Suspect: true));
        Assert.Equal(SettleVerdict.RunAgain, settlement.Verdict);
        Assert.False(settlement.Suspect);
    }

    [Fact]
    public void A_lane_runs_an_event_its_runner_could_not_take_again_up_to_the_delivery_limit_then_dead_letters_it()
    {
        var requeues = 0;
        var suspect = true;
        Settlement settlement;
        while ((settlement = Settlement.Decide(new RunResult(RunOutcome.Requeue, "runner busy"),
            new DeliveryState(2, ThreeAttempts, true, suspect, requeues))).Verdict == SettleVerdict.RunAgain)
        {
            // Same attempt, still alone: it never ran.
            Assert.Equal(2, settlement.Attempt);
            Assert.True(settlement.Suspect);
            Assert.Equal(Settlement.InLaneRequeuePause, settlement.Delay);
            requeues++;
            suspect = settlement.Suspect;
        }
        Assert.Equal(Topology.DeliveryLimit - 1, requeues);
        Assert.Equal(SettleVerdict.DeadLetter, settlement.Verdict);
        Assert.Equal($"could not be run {Topology.DeliveryLimit} times in a row: runner busy", settlement.Reason);
    }

    [Fact]
    public void Unkeyed_an_event_its_runner_could_not_take_is_left_to_the_brokers_delivery_limit()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Requeue, "runner busy"),
            new DeliveryState(1, ThreeAttempts, false, Requeues: Topology.DeliveryLimit));
        Assert.Equal(SettleVerdict.GiveBack, settlement.Verdict);
    }

    [Fact]
    public void The_decision_reads_the_retry_policy_it_is_given_not_a_cached_one()
    {
        var failed = new RunResult(RunOutcome.Failed, "boom");
        var twoAttempts = new RetryPolicy(2, [1]);
        SettleVerdict Verdict(RetryPolicy? policy) =>
            Settlement.Decide(failed, new DeliveryState(2, policy, false)).Verdict;
        Assert.Equal(SettleVerdict.RunAgain, Verdict(ThreeAttempts));
        Assert.Equal(SettleVerdict.DeadLetter, Verdict(twoAttempts));
        Assert.Equal(SettleVerdict.Ack, Verdict(null));
    }
}
