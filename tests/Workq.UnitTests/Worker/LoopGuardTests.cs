using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Workq.Worker.Emitting;

namespace Workq.UnitTests.Worker;

/// <summary>
/// When the loop guard blocks a worker whose runs emit to itself, against a fake clock and a blocker that records:
/// the thresholds, the window, one block per loop, the incarnation, and the exact reason the admin reads.
/// </summary>
public sealed class LoopGuardTests
{
    private readonly FakeTimeProvider time = new();
    private readonly RecordingBlocker blocker = new();
    private readonly LoopGuard guard;

    public LoopGuardTests() => guard = new LoopGuard(blocker, time, NullLogger<LoopGuard>.Instance);

    public static TheoryData<string, int, int, bool> Loops => new()
    {
        // name, runs, self-emits per run, blocked
        { "each run emits twice: exponential", 500, 2, true },
        { "just short of the minimum", 499, 2, false },
        { "each run emits once: a linear chain", 2_000, 1, false },
        { "one run emits a thousand", 1, 1_000, true },
        { "one run emits one short of it", 1, 999, false },
        { "no run emits to itself", 5_000, 0, false },
    };

    [Theory]
    [MemberData(nameof(Loops))]
    public void Blocks_a_loop_that_grows_past_the_minimum(string loop, int runs, int emitsPerRun, bool blocked)
    {
        for (var i = 0; i < runs; i++) guard.Observe("shop", "orders", 7, emitsPerRun);

        Assert.True(blocked == (blocker.Blocks.Count == 1), $"{loop}: {blocker.Blocks.Count} block(s)");
    }

    [Fact]
    public void The_reason_names_the_loop_and_what_to_do()
    {
        for (var i = 0; i < 500; i++) guard.Observe("shop", "orders", 7, 2);

        var block = Assert.Single(blocker.Blocks);
        Assert.Equal(("shop", "orders", 7L), (block.Canvas, block.Worker, block.Incarnation));
        Assert.Equal(
            "Runaway self-emit loop: 1000 events emitted to 'orders' by 500 of its own runs within 5 s. "
            + "Blocked automatically; fix the code, then ask the admin to unblock.",
            block.Reason);
    }

    [Fact]
    public void Counts_start_again_after_the_window()
    {
        for (var i = 0; i < 400; i++) guard.Observe("shop", "orders", 7, 2);
        time.Advance(LoopGuard.Window + TimeSpan.FromSeconds(0.1));
        for (var i = 0; i < 400; i++) guard.Observe("shop", "orders", 7, 2);

        Assert.Empty(blocker.Blocks);
    }

    [Fact]
    public void Each_incarnation_and_worker_counts_apart()
    {
        for (var i = 0; i < 400; i++)
        {
            guard.Observe("shop", "orders", 7, 2);
            guard.Observe("shop", "orders", 8, 2);
            guard.Observe("shop", "invoices", 7, 2);
            guard.Observe("mall", "orders", 7, 2);
        }

        Assert.Empty(blocker.Blocks);
        for (var i = 0; i < 100; i++) guard.Observe("shop", "orders", 8, 2);
        Assert.Equal(8, Assert.Single(blocker.Blocks).Incarnation);
    }

    [Fact]
    public async Task Blocks_once_per_window_and_is_armed_again_after_it()
    {
        guard.Observe("shop", "orders", 7, 1_000);
        guard.Observe("shop", "orders", 7, 1_000);
        guard.Observe("shop", "orders", 7, 1_000);
        Assert.Single(blocker.Blocks);

        time.Advance(LoopGuard.Window + TimeSpan.FromSeconds(0.1));
        // Armed again on the timer's thread: runs keep looping until the guard blocks again.
        await Eventually.Until(() =>
        {
            guard.Observe("shop", "orders", 7, 1_000);
            return blocker.Blocks.Count >= 2;
        }, "the second block");
        Assert.Equal(2, blocker.Blocks.Count);
        Assert.StartsWith("Runaway self-emit loop: ", blocker.Blocks[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_block_that_fails_is_not_the_run_s_failure()
    {
        blocker.Failing = true;

        guard.Observe("shop", "orders", 7, 1_000);

        Assert.Single(blocker.Blocks);
    }

    private sealed class RecordingBlocker : IWorkerBlocker
    {
        private readonly List<(string Canvas, string Worker, long Incarnation, string Reason)> blocks = [];

        public bool Failing { get; set; }

        public IReadOnlyList<(string Canvas, string Worker, long Incarnation, string Reason)> Blocks
        {
            get
            {
                lock (blocks) return [.. blocks];
            }
        }

        public Task BlockAsync(
            string canvas,
            string worker,
            long incarnation,
            string reason,
            CancellationToken cancellationToken)
        {
            lock (blocks) blocks.Add((canvas, worker, incarnation, reason));
            return Failing
                ? Task.FromException(new InvalidOperationException("the store is down"))
                : Task.CompletedTask;
        }
    }
}
