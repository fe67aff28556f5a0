using Microsoft.Extensions.Time.Testing;
using Workq.Shared.Storage;
using Workq.Worker.Consuming;

namespace Workq.UnitTests.Worker;

/// <summary>
/// The instance's set of un-enqueued events against the store's marks: a full reload adds what the store holds and
/// forgets what it no longer holds, but not what came in while it read; the reloads between full ones read only the
/// marks made since the last read.
/// </summary>
public sealed class CancelledEventsTests
{
    private readonly FakeTimeProvider time = new(DateTimeOffset.Parse("2026-12-08T10:00:00Z",
        System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A store on the test's clock: each mark made at a time, each read answered with its time.</summary>
    private sealed class Marks(TimeProvider time) : ICancelledMarks
    {
        public List<(string Canvas, string Worker, Guid Id, DateTimeOffset At)> Held { get; } = [];
        public List<DateTimeOffset?> Asked { get; } = [];
        public Action? WhileReading { get; set; }

        public void Mark(string canvas, string worker, Guid id) => Held.Add((canvas, worker, id, time.GetUtcNow()));

        public Task<CancelledMarks> ReadAsync(DateTimeOffset? since, CancellationToken cancellationToken)
        {
            Asked.Add(since);
            var read = new CancelledMarks(
                Held.Where(m => since is null || m.At >= since).Select(m => (m.Canvas, m.Worker, m.Id)).ToList(),
                time.GetUtcNow());
            WhileReading?.Invoke();
            return Task.FromResult(read);
        }
    }

    private readonly Marks marks;
    private readonly CancelledEvents cancelled;

    public CancelledEventsTests()
    {
        marks = new Marks(time);
        cancelled = new CancelledEvents(marks, time);
    }

    [Fact]
    public async Task A_reload_adds_the_stores_marks_and_forgets_the_ids_the_store_no_longer_holds()
    {
        var (kept, expired, stored) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        marks.Mark("shop", "w", kept);
        marks.Mark("shop", "w", stored);
        cancelled.Add("shop", "w", kept);
        // Cancelled while it ran: no delivery skips it, and the store's day has passed.
        cancelled.Add("shop", "w", expired);

        await cancelled.ReloadAsync(CancellationToken.None);

        Assert.True(cancelled.IsCancelled("shop", "w", kept));
        Assert.True(cancelled.IsCancelled("shop", "w", stored));
        Assert.False(cancelled.IsCancelled("shop", "w", expired));
        Assert.False(cancelled.IsCancelled("mall", "w", stored), "another canvas's id is not marked");
    }

    [Fact]
    public async Task An_id_added_while_the_reload_reads_is_kept_though_the_read_missed_it()
    {
        var late = Guid.NewGuid();
        marks.WhileReading = () => cancelled.Add("shop", "w", late);

        await cancelled.ReloadAsync(CancellationToken.None);

        Assert.True(cancelled.IsCancelled("shop", "w", late));
    }

    [Fact]
    public async Task Reloads_between_full_ones_read_only_the_marks_since_the_last_read_and_the_next_full_one_forgets()
    {
        await cancelled.ReloadAsync(CancellationToken.None);
        var first = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(10));
        var fresh = Guid.NewGuid();
        marks.Mark("shop", "w", fresh);
        // Cancelled while it ran, and never in the store's read again: only a full read forgets it.
        var ran = Guid.NewGuid();
        cancelled.Add("shop", "w", ran);

        await cancelled.ReloadAsync(CancellationToken.None);

        Assert.Equal([null, first - CancelledEvents.Overlap], marks.Asked);
        Assert.True(cancelled.IsCancelled("shop", "w", fresh));
        Assert.True(cancelled.IsCancelled("shop", "w", ran));

        time.Advance(CancelledEvents.FullEvery);
        await cancelled.ReloadAsync(CancellationToken.None);

        Assert.Null(marks.Asked[^1]);
        Assert.True(cancelled.IsCancelled("shop", "w", fresh));
        Assert.False(cancelled.IsCancelled("shop", "w", ran));
    }
}
