using Workq.Shared.Storage;
using Workq.Worker.Consuming;

namespace Workq.UnitTests.Worker;

/// <summary>
/// The instance's set of un-enqueued events against the store's marks: a reload adds what the store holds and forgets
/// what it no longer holds, but not what came in while it read.
/// </summary>
public sealed class CancelledEventsTests
{
    private sealed class Marks : ICancelledMarks
    {
        public List<(string Canvas, string Worker, Guid Id)> Held { get; } = [];
        public Action? WhileReading { get; set; }

        public Task<IReadOnlyList<(string Canvas, string Worker, Guid Id)>> RecentAsync(
            CancellationToken cancellationToken)
        {
            IReadOnlyList<(string, string, Guid)> read = [.. Held];
            WhileReading?.Invoke();
            return Task.FromResult(read);
        }
    }

    private readonly Marks marks = new();

    [Fact]
    public async Task A_reload_adds_the_stores_marks_and_forgets_the_ids_the_store_no_longer_holds()
    {
        var cancelled = new CancelledEvents(marks);
        var (kept, expired, stored) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        marks.Held.AddRange([("shop", "w", kept), ("shop", "w", stored)]);
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
        var cancelled = new CancelledEvents(marks);
        var late = Guid.NewGuid();
        marks.WhileReading = () => cancelled.Add("shop", "w", late);

        await cancelled.ReloadAsync(CancellationToken.None);

        Assert.True(cancelled.IsCancelled("shop", "w", late));
    }
}
