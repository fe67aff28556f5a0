using System.Collections.Concurrent;
using Workq.Shared.Messaging;
using Workq.Worker.Consuming;

namespace Workq.UnitTests;

/// <summary>
/// The lane of a key (stable, in range, spread) and the per-key chains (in order per key, side by side across keys).
/// </summary>
public sealed class OrderingKeyTests
{
    [Fact]
    public void A_keys_lane_is_FNV_1a_of_its_UTF8_bytes_stable_and_in_range()
    {
        // FNV-1a 32 of "a" is 0xE40C292C; of "" the offset basis 0x811C9DC5.
        Assert.Equal((int)(0xE40C292Cu % 8), OrderingKeys.Lane("a", 8));
        Assert.Equal((int)(0x811C9DC5u % 8), OrderingKeys.Lane("", 8));
        var lanes = Enumerable.Range(0, 10_000).Select(i => OrderingKeys.Lane($"customer-{i}", 8)).ToList();
        Assert.All(lanes, lane => Assert.InRange(lane, 0, 7));
        // Spread: every lane gets a fair share of many keys.
        Assert.All(lanes.GroupBy(l => l), g => Assert.InRange(g.Count(), 1_000, 1_500));
        Assert.Equal(OrderingKeys.Lane("ключ/日本", 8), OrderingKeys.Lane("ключ/日本", 8));
        Assert.Equal("w.lane3", OrderingKeys.RoutingKey("w", 3));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("k", true)]
    [InlineData("../x", true)]
    [InlineData("", false)]
    [InlineData("a\u0000b", false)]
    [InlineData("a\tb", false)]
    [InlineData("a\u007fb", false)]
    public void Keys_are_1_to_128_characters_without_control_characters(string? key, bool valid)
    {
        Assert.Equal(valid, OrderingKeys.Problem(key) is null);
        Assert.Null(OrderingKeys.Problem(new string('k', 128)));
        Assert.Contains("128", OrderingKeys.Problem(new string('k', 129)));
    }

    [Fact]
    public async Task Chains_run_each_keys_work_in_order_one_at_a_time_and_keys_side_by_side()
    {
        var chains = new KeyedSerialExecutor();
        var log = new ConcurrentQueue<(string Key, int N, bool Start)>();
        var running = 0;
        var mostAtOnce = 0;
        var both = new TaskCompletionSource();
        var tasks = new List<Task>();
        for (var n = 0; n < 20; n++)
            foreach (var key in new[] { "a", "b" })
            {
                var (k, i) = (key, n);
                tasks.Add(chains.Add(k, async () =>
                {
                    log.Enqueue((k, i, true));
                    var now = Interlocked.Increment(ref running);
                    InterlockedMax(ref mostAtOnce, now);
                    if (now == 2) both.TrySetResult();
                    // The first of each key waits until both keys run, so side by side is observed, not hoped for.
                    if (i == 0) await both.Task.WaitAsync(TimeSpan.FromSeconds(10));
                    await Task.Yield();
                    Interlocked.Decrement(ref running);
                    log.Enqueue((k, i, false));
                }));
            }
        Assert.True(chains.Pending > 0);
        await Task.WhenAll(tasks);
        Assert.Equal(2, mostAtOnce);
        foreach (var key in new[] { "a", "b" })
        {
            var marks = log.Where(m => m.Key == key).ToList();
            Assert.Equal(Enumerable.Range(0, 20).SelectMany(i => new[] { (key, i, true), (key, i, false) }), marks);
        }
        await WaitUntilAsync(() => chains.Pending == 0 && chains.Keys == 0);
    }

    [Fact]
    public async Task A_faulted_run_ends_only_itself_and_its_successor_still_runs()
    {
        var chains = new KeyedSerialExecutor();
        var failed = chains.Add("k", () => throw new InvalidOperationException("boom"));
        var ran = false;
        await chains.Add("k", () =>
        {
            ran = true;
            return Task.CompletedTask;
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed);
        Assert.True(ran);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
    }

    private static async Task WaitUntilAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the chains never emptied");
            await Task.Delay(5);
        }
    }
}
