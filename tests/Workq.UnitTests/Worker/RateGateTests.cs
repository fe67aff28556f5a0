using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Workq.Shared.Storage;
using Workq.Worker.Consuming;

namespace Workq.UnitTests.Worker;

/// <summary>
/// The rate gate's decisions against a scripted bucket and a fake clock: when a delivery may run, when the gate asks
/// the bucket again, and what a new limit or a cancellation does to the deliveries waiting.
/// </summary>
public sealed class RateGateTests
{
    private static readonly TimeSpan Deadline = Eventually.Deadline;
    private static readonly RateLimit TenPerSecond = new(10, 1);

    private readonly FakeTimeProvider time = new();
    private readonly ScriptedBuckets buckets = new();
    private readonly RateGate gate;

    public RateGateTests() => gate = new RateGate("shop", "orders", buckets, time, NullLogger.Instance);

    [Fact]
    public async Task Without_a_limit_a_delivery_runs_at_once_and_no_token_is_drawn()
    {
        await gate.WaitAsync(CancellationToken.None).WaitAsync(Deadline);

        Assert.Empty(buckets.Calls);
    }

    [Fact]
    public async Task A_grant_asks_for_a_horizon_of_slots_and_its_past_slots_run_at_once()
    {
        gate.Limit = TenPerSecond;
        // A full bucket: its slots lie in the past.
        buckets.Answer(firstIn: -1, tokens: 5);

        for (var i = 0; i < 5; i++) await gate.WaitAsync(CancellationToken.None).WaitAsync(Deadline);

        var call = Assert.Single(buckets.Calls);
        Assert.Equal(("shop", "orders", TenPerSecond, 5, RateGate.Horizon), call);
    }

    [Fact]
    public async Task Tokens_are_used_in_order_each_when_its_slot_has_come()
    {
        gate.Limit = TenPerSecond;
        // Slots 0.2, 0.3 and 0.4 s from the answer, in a database clock that is not this process's.
        buckets.Answer(firstIn: 0.2, tokens: 3);

        var first = gate.WaitAsync(CancellationToken.None);
        var second = gate.WaitAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.False(first.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(60));
        await first.WaitAsync(Deadline);
        Assert.False(second.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(100));
        await second.WaitAsync(Deadline);
        Assert.Single(buckets.Calls);
    }

    [Fact]
    public async Task A_token_unused_a_horizon_after_its_slot_is_dropped()
    {
        gate.Limit = TenPerSecond;
        buckets.Answer(firstIn: 0, tokens: 5);
        buckets.Answer(firstIn: 0, tokens: 5);
        await gate.WaitAsync(CancellationToken.None).WaitAsync(Deadline);

        time.Advance(TimeSpan.FromSeconds(1));
        await gate.WaitAsync(CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(2, buckets.Calls.Count);
    }

    [Fact]
    public async Task With_every_slot_taken_by_another_instance_it_asks_again_when_half_a_horizon_is_free()
    {
        gate.Limit = TenPerSecond;
        // The next free slot is 2 s away: ask again 2 - 0.25 s from now.
        buckets.Answer(firstIn: 2, tokens: 0);
        buckets.Answer(firstIn: 0.25, tokens: 1);

        var waiting = gate.WaitAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1.7));
        Assert.Single(buckets.Calls);
        Assert.False(waiting.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(0.06));
        await Eventually.Until(() => buckets.Calls.Count == 2, "the second grant");
        time.Advance(TimeSpan.FromSeconds(0.26));
        await waiting.WaitAsync(Deadline);
    }

    [Fact]
    public async Task When_the_bucket_cannot_be_read_the_delivery_waits_a_second_and_asks_again()
    {
        gate.Limit = TenPerSecond;
        buckets.Fail();
        buckets.Answer(firstIn: 0, tokens: 1);

        var waiting = gate.WaitAsync(CancellationToken.None);
        Assert.Single(buckets.Calls);
        time.Advance(TimeSpan.FromMilliseconds(990));
        Assert.False(waiting.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(20));
        await waiting.WaitAsync(Deadline);
        Assert.Equal(2, buckets.Calls.Count);
    }

    [Fact]
    public async Task A_new_limit_drops_the_old_grant_and_wakes_the_waiting_delivery()
    {
        gate.Limit = new RateLimit(1, 60);
        buckets.Answer(firstIn: 60, tokens: 1);
        buckets.Answer(firstIn: 0, tokens: 50);
        var waiting = gate.WaitAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        var patched = new RateLimit(100, 1);
        gate.Limit = patched;

        await waiting.WaitAsync(Deadline);
        Assert.Equal(2, buckets.Calls.Count);
        Assert.Equal(patched, buckets.Calls[1].Limit);
        Assert.Equal(50, buckets.Calls[1].Want);
    }

    [Fact]
    public async Task An_equal_limit_keeps_the_grant()
    {
        gate.Limit = TenPerSecond;
        buckets.Answer(firstIn: -1, tokens: 5);
        await gate.WaitAsync(CancellationToken.None).WaitAsync(Deadline);

        gate.Limit = new RateLimit(10, 1);
        await gate.WaitAsync(CancellationToken.None).WaitAsync(Deadline);

        Assert.Single(buckets.Calls);
    }

    [Fact]
    public async Task Removing_the_limit_lets_the_waiting_deliveries_run()
    {
        gate.Limit = new RateLimit(1, 60);
        buckets.Answer(firstIn: 60, tokens: 1);
        var first = gate.WaitAsync(CancellationToken.None);
        var second = gate.WaitAsync(CancellationToken.None);

        gate.Limit = null;

        await Task.WhenAll(first, second).WaitAsync(Deadline);
        Assert.Single(buckets.Calls);
    }

    [Fact]
    public async Task A_cancelled_delivery_stops_waiting_and_the_next_one_takes_its_turn()
    {
        gate.Limit = TenPerSecond;
        buckets.Answer(firstIn: 0.5, tokens: 2);
        using var stop = new CancellationTokenSource();
        var cancelled = gate.WaitAsync(stop.Token);
        var queued = gate.WaitAsync(stop.Token);
        var next = gate.WaitAsync(CancellationToken.None);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Deadline));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Deadline));
        time.Advance(TimeSpan.FromSeconds(0.51));
        await next.WaitAsync(Deadline);
        Assert.Single(buckets.Calls);
    }

    /// <summary>
    /// Answers grants in order, in a database clock of its own: a slot <c>firstIn</c> seconds after the answer.
    /// </summary>
    private sealed class ScriptedBuckets : IRateBuckets
    {
        private const double DatabaseNow = 1_000_000;
        private readonly Queue<RateGrant?> answers = new();
        private readonly List<(string Canvas, string Worker, RateLimit Limit, int Want, double Horizon)> calls = [];

        public IReadOnlyList<(string Canvas, string Worker, RateLimit Limit, int Want, double Horizon)> Calls
        {
            get
            {
                lock (calls) return [.. calls];
            }
        }

        public void Answer(double firstIn, int tokens) =>
            answers.Enqueue(new RateGrant(DatabaseNow + firstIn, DatabaseNow, tokens));

        public void Fail() => answers.Enqueue(null);

        public Task<RateGrant> GrantAsync(
            string canvas,
            string worker,
            RateLimit limit,
            int want,
            double horizon,
            CancellationToken cancellationToken)
        {
            lock (calls) calls.Add((canvas, worker, limit, want, horizon));
            return answers.TryDequeue(out var answer) && answer is { } grant
                ? Task.FromResult(grant)
                : Task.FromException<RateGrant>(new InvalidOperationException("the bucket could not be read"));
        }
    }
}
