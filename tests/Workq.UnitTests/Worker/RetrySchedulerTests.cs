using System.Text;
using RabbitMQ.Client;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Runs;
using Workq.Worker.Settling;

namespace Workq.UnitTests.Worker;

/// <summary>
/// What the retry scheduler publishes for each settlement, against a broker that records: the exchange or delay queue
/// an event comes back through, its attempt and marks, and the dead letter's reason.
/// </summary>
public sealed class RetrySchedulerTests
{
    private static readonly EventEnvelope Envelope =
        new(Guid.NewGuid(), "shop", "orders", DateTimeOffset.UnixEpoch, Depth: 1, TraceParent: null);
    private static readonly byte[] Body = "{\"order\":7}"u8.ToArray();
    private static readonly string WorkerQueue = Topology.WorkerQueue("shop", "orders");

    private readonly RecordingBroker broker = new();
    private readonly RetryScheduler scheduler;

    public RetrySchedulerTests() => scheduler = new RetryScheduler(broker);

    public static TheoryData<double, string> Delays => new()
    {
        // the backoff in seconds, the exchange or queue the copy goes through
        { 0, Topology.RetryExchange },
        { 0.9, Topology.RetryExchange },
        { 1, Topology.DelayQueue(1) },
        { 5, Topology.DelayQueue(5) },
        { 30.7, Topology.DelayQueue(30) },
        { 3600, Topology.DelayQueue(3600) },
    };

    [Theory]
    [MemberData(nameof(Delays))]
    public async Task A_retry_comes_back_through_the_delay_queue_of_its_whole_seconds(double seconds, string through)
    {
        var settlement = new Settlement(SettleVerdict.RunAgain, 3, Delay: TimeSpan.FromSeconds(seconds));

        await scheduler.PublishAsync(settlement, Envelope, Body, CancellationToken.None);

        var published = Assert.Single(broker.Published);
        Assert.Equal(through, published.Exchange);
        Assert.Equal(WorkerQueue, published.RoutingKey);
        Assert.Equal(3, published.Headers[EventHeaders.Attempt]);
        Assert.False(published.Headers.ContainsKey(EventHeaders.CrashSuspect));
        Assert.Equal(Body, published.Body);
        Assert.Equal(Envelope.Id.ToString(), published.Properties.MessageId);
        Assert.Equal(seconds >= 1 ? [(int)seconds] : Array.Empty<int>(), broker.Declared);
    }

    [Fact]
    public async Task A_delay_queue_is_declared_once_for_every_retry_through_it()
    {
        var settlement = new Settlement(SettleVerdict.RunAgain, 2, Delay: TimeSpan.FromSeconds(5));

        for (var i = 0; i < 3; i++) await scheduler.PublishAsync(settlement, Envelope, Body, CancellationToken.None);
        await scheduler.PublishAsync(settlement with { Delay = TimeSpan.FromSeconds(30) }, Envelope, Body,
            CancellationToken.None);

        Assert.Equal([5, 30], broker.Declared);
        Assert.Equal(4, broker.Published.Count);
    }

    [Fact]
    public async Task A_failed_run_of_a_policy_comes_back_after_its_backoff_as_the_next_attempt()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Failed, "boom"),
            new DeliveryState(1, new RetryPolicy(3, [5, 30]), InLane: false));

        await scheduler.PublishAsync(settlement, Envelope, Body, CancellationToken.None);

        var published = Assert.Single(broker.Published);
        Assert.Equal(Topology.DelayQueue(5), published.Exchange);
        Assert.Equal(2, published.Headers[EventHeaders.Attempt]);
    }

    [Fact]
    public async Task A_crash_suspect_comes_back_at_once_marked_with_the_crash()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Suspect, "runner crashed: SIGSEGV"),
            new DeliveryState(1, null, InLane: false));

        await scheduler.PublishAsync(settlement, Envelope, Body, CancellationToken.None);

        var published = Assert.Single(broker.Published);
        Assert.Equal(Topology.RetryExchange, published.Exchange);
        Assert.Equal(2, published.Headers[EventHeaders.Attempt]);
        Assert.Equal("runner crashed: SIGSEGV", Text(published.Headers[EventHeaders.CrashSuspect]));
        Assert.Empty(broker.Declared);
    }

    [Fact]
    public async Task A_dead_letter_carries_its_reason_and_attempts()
    {
        var settlement = Settlement.Decide(new RunResult(RunOutcome.Failed, "boom"),
            new DeliveryState(3, new RetryPolicy(3, [5, 30]), InLane: false));

        await scheduler.PublishAsync(settlement, Envelope, Body, CancellationToken.None);

        var published = Assert.Single(broker.Published);
        Assert.Equal(Topology.DeadLetterExchange, published.Exchange);
        Assert.Equal("orders", published.RoutingKey);
        Assert.Equal("retries exhausted after 3 attempts; last error: boom",
            Text(published.Headers[EventHeaders.DeadLetterReason]));
        Assert.Equal(3, published.Headers[EventHeaders.Attempts]);
        Assert.Equal(3, published.Headers[EventHeaders.Attempt]);
        Assert.Equal(Body, published.Body);
    }

    [Fact]
    public async Task Reasons_and_crash_marks_are_cut_at_two_thousand_characters()
    {
        var reason = new string('x', 2_500);

        await scheduler.PublishAsync(new Settlement(SettleVerdict.DeadLetter, 1, Reason: reason), Envelope, Body,
            CancellationToken.None);
        await scheduler.PublishAsync(new Settlement(SettleVerdict.RunAgain, 2, Suspect: true, Reason: reason), Envelope,
            Body, CancellationToken.None);

        Assert.Equal(reason[..2_000], Text(broker.Published[0].Headers[EventHeaders.DeadLetterReason]));
        Assert.Equal(reason[..2_000], Text(broker.Published[1].Headers[EventHeaders.CrashSuspect]));
    }

    [Theory]
    [InlineData(SettleVerdict.Ack)]
    [InlineData(SettleVerdict.GiveBack)]
    public async Task An_ack_or_a_give_back_publishes_nothing(SettleVerdict verdict)
    {
        await scheduler.PublishAsync(new Settlement(verdict, 2, Delay: TimeSpan.FromSeconds(5), Reason: "no"),
            Envelope, Body, CancellationToken.None);

        Assert.Empty(broker.Published);
        Assert.Empty(broker.Declared);
    }

    [Fact]
    public async Task An_unrun_event_goes_back_as_it_was_with_its_crash_mark()
    {
        var mark = Encoding.UTF8.GetBytes("runner crashed: exit 137");

        await scheduler.RequeueUnrunAsync(Envelope, 4, mark, Body, CancellationToken.None);

        var published = Assert.Single(broker.Published);
        Assert.Equal(Topology.RetryExchange, published.Exchange);
        Assert.Equal(WorkerQueue, published.RoutingKey);
        Assert.Equal(4, published.Headers[EventHeaders.Attempt]);
        Assert.Same(mark, published.Headers[EventHeaders.CrashSuspect]);
    }

    [Fact]
    public async Task An_unreadable_delivery_is_dead_lettered_as_it_came_with_the_reason()
    {
        var properties = new BasicProperties
        {
            MessageId = "not-an-event",
            Headers = new Dictionary<string, object?> { ["custom"] = "kept" },
        };

        await scheduler.DeadLetterUnreadableAsync("shop", "orders", properties, "its message id is no event id", Body,
            CancellationToken.None);

        var published = Assert.Single(broker.Published);
        Assert.Equal(Topology.DeadLetterExchange, published.Exchange);
        Assert.Equal("orders", published.RoutingKey);
        Assert.Equal("not-an-event", published.Properties.MessageId);
        Assert.Equal("kept", published.Headers["custom"]);
        Assert.Equal("its message id is no event id", Text(published.Headers[EventHeaders.DeadLetterReason]));
        Assert.Equal(Guid.Empty, published.Envelope.Id);
        Assert.Single(properties.Headers);
    }

    private static string Text(object? header) => Encoding.UTF8.GetString(Assert.IsType<byte[]>(header));

    private sealed record Publish(
        string Exchange,
        string RoutingKey,
        EventEnvelope Envelope,
        BasicProperties Properties,
        byte[] Body)
    {
        public IDictionary<string, object?> Headers => Properties.Headers!;
    }

    private sealed class RecordingBroker : IRetryBroker
    {
        public List<Publish> Published { get; } = [];
        public List<int> Declared { get; } = [];

        public Task PublishAsync(
            string exchange,
            string routingKey,
            EventEnvelope envelope,
            BasicProperties properties,
            ReadOnlyMemory<byte> body,
            CancellationToken cancellationToken)
        {
            Published.Add(new Publish(exchange, routingKey, envelope, properties, body.ToArray()));
            return Task.CompletedTask;
        }

        public Task DeclareDelayAsync(int seconds, CancellationToken cancellationToken)
        {
            Declared.Add(seconds);
            return Task.CompletedTask;
        }
    }
}
