using Workq.Shared.Storage;

namespace Workq.UnitTests;

/// <summary>The rule by which a status write replaces another (the same in memory and in the store's upsert): never backwards.</summary>
public sealed class EventStatusOrderTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static EventStatusUpdate Write(string status, short rank, int attempts, DateTimeOffset? startedAt = null, DateTimeOffset? finishedAt = null, bool restart = false) =>
        new("c", Guid.Empty, "w", status, rank, attempts, At, StartedAt: startedAt, FinishedAt: finishedAt, Restart: restart);

    private static readonly EventStatusUpdate Queued = Write(EventStatuses.Queued, EventStatuses.QueuedRank, 1);
    private static readonly EventStatusUpdate Running = Write(EventStatuses.Running, EventStatuses.RunningRank, 1, At.AddSeconds(1));
    private static readonly EventStatusUpdate Completed = Write(EventStatuses.Completed, EventStatuses.FinishedRank, 1, At.AddSeconds(1), At.AddSeconds(2));
    private static readonly EventStatusUpdate CancelRequest = Write(EventStatuses.Cancelled, EventStatuses.CancelRequestRank, 1);
    private static readonly EventStatusUpdate Retry = Write(EventStatuses.Queued, EventStatuses.QueuedRank, 2);
    private static readonly EventStatusUpdate Dead = Write(EventStatuses.DeadLettered, EventStatuses.DeadLetteredRank, 2, finishedAt: At.AddSeconds(5));

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
        var failedRun = Write(EventStatuses.Running, EventStatuses.RunningRank, 1, At);
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
        Assert.False(Write(EventStatuses.Running, EventStatuses.RunningRank, 2, At.AddSeconds(4)).Supersedes(Dead));
        Assert.True(Write(EventStatuses.Queued, EventStatuses.QueuedRank, 1, restart: true).Supersedes(Dead));
        Assert.True(Write(EventStatuses.Running, EventStatuses.RunningRank, 1, At.AddSeconds(6)).Supersedes(Dead));
    }

    [Fact]
    public void A_quarantined_event_beats_even_its_dead_letter_and_only_its_redrive_replaces_it()
    {
        var quarantined = EventStatusUpdate.Quarantined("c", Guid.Empty, "w", 2, At, 7, "workq.dead-letters", "22021: invalid byte sequence");
        Assert.True(quarantined.Supersedes(Dead));
        Assert.True(quarantined.Supersedes(Completed));
        Assert.False(Dead.Supersedes(quarantined));
        Assert.False(Completed.Supersedes(quarantined));
        Assert.True(Write(EventStatuses.Queued, EventStatuses.QueuedRank, 1, restart: true).Supersedes(quarantined));
        Assert.Equal(EventStatuses.Quarantined, quarantined.Status);
        Assert.True(EventStatuses.IsFinal(quarantined.Status));
        Assert.Contains("GET /v1/quarantine/7", quarantined.Error);
    }

    [Fact]
    public void A_quarantined_status_holds_no_text_postgresql_refuses()
    {
        var quarantined = EventStatusUpdate.Quarantined("c", Guid.Empty, "w", 1, At, 1, "workq.dead-letters", "dead\0letter \ud800");
        Assert.DoesNotContain('\0', quarantined.Error!);
        Assert.DoesNotContain('\ud800', quarantined.Error!);
    }

    [Fact]
    public void A_finish_that_replaces_a_pending_start_keeps_its_start_time()
    {
        var finished = Write(EventStatuses.Completed, EventStatuses.FinishedRank, 1, finishedAt: At.AddSeconds(2));
        Assert.Equal(Running.StartedAt, finished.After(Running).StartedAt);
    }
}
