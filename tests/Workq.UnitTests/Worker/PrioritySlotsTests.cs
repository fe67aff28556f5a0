using Microsoft.Extensions.Time.Testing;
using Workq.Shared.Handlers.Messaging;
using Workq.Worker.Consuming;

namespace Workq.UnitTests.Worker;

/// <summary>
/// Who gets a worker instance's free slot (API.md "Priorities"): high before normal before low, in arrival order within
/// one, a low one aged past the aging time as a normal one, and a cancelled wait never holds a slot.
/// </summary>
public sealed class PrioritySlotsTests
{
    private static readonly TimeSpan Aging = TimeSpan.FromMinutes(5);
    private readonly FakeTimeProvider time = new(DateTimeOffset.Parse("2026-12-07T12:00:00Z"));

    [Fact]
    public async Task Free_slots_are_taken_at_once_and_then_runs_wait()
    {
        var slots = new PrioritySlots(2, Aging, time);

        Assert.True(slots.WaitAsync(Priority.Low, Now, CancellationToken.None).IsCompletedSuccessfully);
        Assert.True(slots.WaitAsync(Priority.Low, Now, CancellationToken.None).IsCompletedSuccessfully);
        var third = slots.WaitAsync(Priority.High, Now, CancellationToken.None);
        Assert.False(third.IsCompleted);

        slots.Release();
        await third.WaitAsync(Eventually.Deadline);
    }

    [Fact]
    public async Task A_freed_slot_goes_to_high_then_normal_then_low_in_arrival_order_within_each()
    {
        var slots = new PrioritySlots(1, Aging, time);
        await slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        var order = new List<string>();
        var waits = new List<Task>();
        foreach (var (name, priority) in new[]
        {
            ("low1", Priority.Low), ("normal1", Priority.Normal), ("high1", Priority.High),
            ("normal2", Priority.Normal), ("high2", Priority.High), ("low2", Priority.Low),
        })
            waits.Add(slots.WaitAsync(priority, Now, CancellationToken.None).ContinueWith(_ =>
            {
                lock (order) order.Add(name);
            }, TaskScheduler.Default));

        for (var i = 0; i < waits.Count; i++)
        {
            slots.Release();
            var expected = i + 1;
            await Eventually.Until(() =>
            {
                lock (order) return order.Count == expected;
            }, $"run {expected} started");
        }

        Assert.Equal(["high1", "high2", "normal1", "normal2", "low1", "low2"], order);
    }

    [Fact]
    public async Task A_low_run_waiting_past_the_aging_time_goes_before_the_normal_runs_enqueued_after_it()
    {
        var slots = new PrioritySlots(1, Aging, time);
        await slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        var low = slots.WaitAsync(Priority.Low, Now, CancellationToken.None);
        time.Advance(Aging + TimeSpan.FromSeconds(1));
        var normal = slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        var high = slots.WaitAsync(Priority.High, Now, CancellationToken.None);

        slots.Release();
        await high.WaitAsync(Eventually.Deadline);
        slots.Release();
        await low.WaitAsync(Eventually.Deadline);
        Assert.False(normal.IsCompleted, "an aged low run is served as normal, and it was enqueued first");
        slots.Release();
        await normal.WaitAsync(Eventually.Deadline);
    }

    [Fact]
    public async Task A_low_run_not_aged_yet_waits_behind_every_normal_one()
    {
        var slots = new PrioritySlots(1, Aging, time);
        await slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        var low = slots.WaitAsync(Priority.Low, Now, CancellationToken.None);
        time.Advance(Aging - TimeSpan.FromSeconds(1));
        var normal = slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);

        slots.Release();
        await normal.WaitAsync(Eventually.Deadline);
        Assert.False(low.IsCompleted);
    }

    [Fact]
    public async Task A_cancelled_wait_gives_up_its_place_and_the_slot_goes_to_the_next()
    {
        var slots = new PrioritySlots(1, Aging, time);
        await slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = slots.WaitAsync(Priority.High, Now, cancel.Token);
        var next = slots.WaitAsync(Priority.Low, Now, CancellationToken.None);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        slots.Release();
        await next.WaitAsync(Eventually.Deadline);

        // The slot went to the low run, and no slot was lost: its release frees one for the next comer.
        slots.Release();
        Assert.True(slots.WaitAsync(Priority.Normal, Now, CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_slot_freed_by_a_full_window_of_normal_runs_waits_for_the_refill_not_the_low_run()
    {
        var slots = new PrioritySlots(1, Aging, time, window: 2);
        slots.Delivered(Priority.Normal);
        slots.Delivered(Priority.Normal);
        await slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        var second = slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        slots.Delivered(Priority.Low);
        var low = slots.WaitAsync(Priority.Low, Now, CancellationToken.None);

        // The first normal run ends with the window full: the broker sends the next normal event, if it has one.
        slots.Settled(Priority.Normal);
        slots.Release();
        await second.WaitAsync(Eventually.Deadline);
        // The second ends with the window no longer full: no refill is due from it, but the first one's still is.
        slots.Settled(Priority.Normal);
        slots.Release();
        Assert.False(low.IsCompleted, "a normal event was on its way");

        slots.Delivered(Priority.Normal);
        var refill = slots.WaitAsync(Priority.Normal, Now, CancellationToken.None);
        await refill.WaitAsync(Eventually.Deadline);
        Assert.False(low.IsCompleted);
        slots.Settled(Priority.Normal);
        slots.Release();
        await low.WaitAsync(Eventually.Deadline);
    }

    [Fact]
    public async Task A_refill_that_does_not_come_holds_the_slot_only_for_the_refill_wait()
    {
        var (slots, normal) = AfterOneHighRun(window: 1, waiting: Priority.Normal);

        time.Advance(PrioritySlots.RefillWait - TimeSpan.FromMilliseconds(1));
        Assert.False(normal.IsCompleted, "a high event may be on its way");
        // A normal run that comes meanwhile waits too, rather than taking the free slot.
        Assert.False(slots.WaitAsync(Priority.Normal, Now, CancellationToken.None).IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await normal.WaitAsync(Eventually.Deadline);
    }

    [Fact]
    public async Task Runs_of_a_queue_whose_window_never_filled_expect_no_refill()
    {
        var (_, low) = AfterOneHighRun(window: 10, waiting: Priority.Low);

        await low.WaitAsync(Eventually.Deadline);
    }

    [Fact]
    public async Task When_the_broker_says_the_queue_is_empty_the_slot_goes_at_once()
    {
        var asked = new List<Priority>();
        var (_, normal) = AfterOneHighRun(window: 1, waiting: Priority.Normal, queued: priority =>
        {
            lock (asked) asked.Add(priority);
            return Task.FromResult<long?>(0);
        });

        await normal.WaitAsync(Eventually.Deadline);
        lock (asked) Assert.Equal([Priority.High], asked);
    }

    [Fact]
    public async Task When_the_broker_says_the_queue_has_more_the_slot_waits_for_the_refill()
    {
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (slots, normal) = AfterOneHighRun(window: 1, waiting: Priority.Normal, queued: _ =>
        {
            answered.TrySetResult();
            return Task.FromResult<long?>(3);
        });
        await answered.Task.WaitAsync(Eventually.Deadline);

        time.Advance(PrioritySlots.AskEvery);
        Assert.False(normal.IsCompleted, "a high event is on its way");
        slots.Delivered(Priority.High);
        var refill = slots.WaitAsync(Priority.High, Now, CancellationToken.None);
        await refill.WaitAsync(Eventually.Deadline);
        Assert.False(normal.IsCompleted);
    }

    [Fact]
    public async Task When_the_broker_cannot_say_the_slot_waits_the_refill_wait()
    {
        var (_, normal) = AfterOneHighRun(window: 1, waiting: Priority.Normal,
            queued: _ => Task.FromException<long?>(new InvalidOperationException("no broker")));

        time.Advance(PrioritySlots.RefillWait - TimeSpan.FromMilliseconds(1));
        Assert.False(normal.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await normal.WaitAsync(Eventually.Deadline);
    }

    /// <summary>A high run ends, delivered with the window given, while a run of <paramref name="waiting"/> waits.
    /// </summary>
    private (PrioritySlots Slots, Task Waiting) AfterOneHighRun(
        int window,
        Priority waiting,
        Func<Priority, Task<long?>>? queued = null)
    {
        var slots = new PrioritySlots(1, Aging, time, window, queued);
        slots.Delivered(Priority.High);
        Assert.True(slots.WaitAsync(Priority.High, Now, CancellationToken.None).IsCompletedSuccessfully);
        var next = slots.WaitAsync(waiting, Now, CancellationToken.None);
        slots.Settled(Priority.High);
        slots.Release();
        return (slots, next);
    }

    private DateTimeOffset Now => time.GetUtcNow();
}
