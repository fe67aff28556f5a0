using Workq.Shared.Storage;
using static Workq.Testing.EventStatusHistories;

namespace Workq.UnitTests;

/// <summary>
/// The rule by which a status write replaces another (the same in memory and in the store's upsert): never backwards.
/// </summary>
public sealed class EventStatusOrderTests
{
    private static readonly EventStatusUpdate Queued = Update(EventStatuses.Queued, EventStatuses.QueuedRank, 1);
    private static readonly EventStatusUpdate Running = Update(
        EventStatuses.Running,
        EventStatuses.RunningRank,
        1,
        At.AddSeconds(1));
    private static readonly EventStatusUpdate Completed = Update(
        EventStatuses.Completed,
        EventStatuses.FinishedRank,
        1,
        At.AddSeconds(1),
        At.AddSeconds(2));
    private static readonly EventStatusUpdate CancelRequest = Update(
        EventStatuses.Cancelled,
        EventStatuses.CancelRequestRank,
        1);
    private static readonly EventStatusUpdate Retry = Update(EventStatuses.Queued, EventStatuses.QueuedRank, 2);
    private static readonly EventStatusUpdate Dead = Update(
        EventStatuses.DeadLettered,
        EventStatuses.DeadLetteredRank,
        2,
        finishedAt: At.AddSeconds(5));

    [Fact]
    public void A_late_queued_never_moves_a_running_or_finished_event_back()
    {
        Assert.True(Running.Supersedes(Queued));
        Assert.False(Queued.Supersedes(Running));
        Assert.False(Queued.Supersedes(Completed));
        Assert.False(Running.Supersedes(Completed));
        Assert.True(Completed.Supersedes(Running));
    }

    [Fact]
    public void A_retry_goes_back_to_queued_with_the_next_attempt_but_a_finished_state_is_final()
    {
        var failedRun = Update(EventStatuses.Running, EventStatuses.RunningRank, 1, At);
        Assert.True(Retry.Supersedes(failedRun));
        Assert.False(failedRun.Supersedes(Retry));
        Assert.False(Retry.Supersedes(Completed));
    }

    [Fact]
    public void An_un_enqueue_cancels_a_queued_event_but_not_one_already_running()
    {
        Assert.True(CancelRequest.Supersedes(Queued));
        Assert.False(Queued.Supersedes(CancelRequest));
        Assert.True(Running.Supersedes(CancelRequest));
        Assert.False(CancelRequest.Supersedes(Running));
    }

    [Fact]
    public void A_dead_letter_beats_everything_and_only_its_redrive_replaces_it()
    {
        Assert.True(Dead.Supersedes(Completed));
        Assert.True(Dead.Supersedes(Running));
        Assert.False(Completed.Supersedes(Dead));
        Assert.False(Update(EventStatuses.Running, EventStatuses.RunningRank, 2, At.AddSeconds(4)).Supersedes(Dead));
        Assert.True(
            Update(EventStatuses.Queued, EventStatuses.QueuedRank, 1, restartedAt: At.AddSeconds(6)).Supersedes(Dead));
        // A late restart does not undo a dead letter the redriven run made after it.
        Assert.False(
            Update(EventStatuses.Queued, EventStatuses.QueuedRank, 1, restartedAt: At.AddSeconds(4)).Supersedes(Dead));
        Assert.True(Update(EventStatuses.Running, EventStatuses.RunningRank, 1, At.AddSeconds(6)).Supersedes(Dead));
    }

    [Fact]
    public void A_quarantined_event_beats_even_its_dead_letter_and_only_its_redrive_replaces_it()
    {
        var quarantined = EventStatusUpdate.Quarantined(
            "c",
            Guid.Empty,
            "w",
            2,
            At,
            7,
            "workq.dead-letters",
            "22021: invalid byte sequence");
        Assert.True(quarantined.Supersedes(Dead));
        Assert.True(quarantined.Supersedes(Completed));
        Assert.False(Dead.Supersedes(quarantined));
        Assert.False(Completed.Supersedes(quarantined));
        Assert.True(Update(
            EventStatuses.Queued,
            EventStatuses.QueuedRank,
            1,
            restartedAt: DateTimeOffset.UtcNow.AddSeconds(1)).Supersedes(quarantined));
        Assert.Equal(EventStatuses.Quarantined, quarantined.Status);
        Assert.True(EventStatuses.IsFinal(quarantined.Status));
        Assert.Contains("GET /v1/quarantine/7", quarantined.Error);
    }

    [Fact]
    public void A_quarantined_status_holds_no_text_postgresql_refuses()
    {
        var quarantined = EventStatusUpdate.Quarantined(
            "c",
            Guid.Empty,
            "w",
            1,
            At,
            1,
            "workq.dead-letters",
            "dead\0letter \ud800");
        Assert.DoesNotContain('\0', quarantined.Error!);
        Assert.DoesNotContain('\ud800', quarantined.Error!);
    }

    [Fact]
    public void A_final_state_beats_any_not_final_whatever_its_attempt_and_a_dead_letter_older_than_the_run_loses()
    {
        var duplicate = Update(EventStatuses.Running, EventStatuses.RunningRank, 2, At.AddSeconds(3));
        Assert.True(Completed.Supersedes(duplicate));
        Assert.False(duplicate.Supersedes(Completed));
        var cancelledForGood = Update(EventStatuses.Cancelled, EventStatuses.FinishedRank, 1, finishedAt: At);
        Assert.True(cancelledForGood.Supersedes(Update(EventStatuses.Scheduled, EventStatuses.ScheduledRank, 1)));
        Assert.False(Update(EventStatuses.Scheduled, EventStatuses.ScheduledRank, 1).Supersedes(cancelledForGood));
        var redrivenRun = Update(EventStatuses.Running, EventStatuses.RunningRank, 1, At.AddSeconds(9));
        Assert.False(Dead.Supersedes(redrivenRun));
        Assert.True(Update(
            EventStatuses.DeadLettered,
            EventStatuses.DeadLetteredRank,
            1,
            At.AddSeconds(9),
            At.AddSeconds(10)).Supersedes(redrivenRun));
    }

    public static TheoryData<string> Histories() => [.. EventStatusHistories.All.Select(h => h.Name)];

    /// <summary>
    /// Every order in which a history's writes can land, merged as the recorder merges them: each ends in the history's
    /// last status, and once a completed, failed or cancelled status was reached no later write shows an earlier one.
    /// </summary>
    [Theory]
    [MemberData(nameof(Histories))]
    public void Whatever_order_the_writes_of_a_history_land_in_the_event_ends_in_its_last_status(string name)
    {
        var (_, writes, ends) = EventStatusHistories.All.Single(h => h.Name == name);
        foreach (var order in EventStatusHistories.Orders(writes))
        {
            var current = order[0];
            foreach (var update in order.Skip(1))
            {
                var wasFinal = current.Rank == EventStatuses.FinishedRank;
                if (update.Supersedes(current)) current = update.After(current);
                Assert.False(wasFinal && current.Rank != EventStatuses.FinishedRank
                    && current.Rank != EventStatuses.DeadLetteredRank,
                    $"{name}: {string.Join(" → ", order.Select(w => w.Status))} went back to {current.Status}");
            }
            var seen = string.Join(" → ", order.Select(w => $"{w.Status}/{w.Attempts}"));
            Assert.True(current.Status == ends, $"{name}: {seen} ends {current.Status}, not {ends}");
        }
    }

    [Fact]
    public void A_finish_that_replaces_a_pending_start_keeps_its_start_time()
    {
        var finished = Update(EventStatuses.Completed, EventStatuses.FinishedRank, 1, finishedAt: At.AddSeconds(2));
        Assert.Equal(Running.StartedAt, finished.After(Running).StartedAt);
    }
}
