using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Workq.Emitter.Emitting;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.UnitTests.Emitting;

/// <summary>
/// How the emitter carries out its plan (the plan itself: EmitPlanTests), against edges that record: what it publishes
/// and stores, which keys it gives back when the broker or the store refuses, which statuses it records, and the
/// trace each event joins.
/// </summary>
public sealed class EventEmitterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Later = Now.AddMinutes(5);
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private readonly RecordingEdges edges = new();
    private readonly EventEmitter emitter;

    public EventEmitterTests() => emitter = new EventEmitter(
        edges,
        new FakeTimeProvider(Now.AddTicks(1_234_567)),
        new EmitLimits { MaxScheduledPerWorker = 42 });

    [Fact]
    public async Task Immediate_events_are_published_for_the_canvas_incarnation_and_recorded_as_queued()
    {
        var results = await Emit([Item("orders", orderingKey: "customer-1"), Item("invoices")], TraceParent);

        Assert.Equal(Now.AddTicks(1_234_560), results[0].EnqueuedAt);
        Assert.Null(edges.Claimed);
        Assert.Empty(Assert.Single(edges.Scheduled).Events);
        var first = edges.Published[0].Envelope;
        Assert.Equal(
            new EventEnvelope(results[0].Id, "shop", "orders", results[0].EnqueuedAt, 0, TraceParent, "customer-1", 9),
            first);
        Assert.Equal(["orders", "invoices"], edges.Published.Select(p => p.Envelope.Worker));
        Assert.Equal("{\"n\":1}", Encoding.UTF8.GetString(edges.Published[1].Body.Span));
        var queued = Assert.Single(edges.Emitted);
        Assert.Equal(("shop", 9L, results[0].EnqueuedAt), (queued.Canvas, queued.CanvasIncarnation, queued.EnqueuedAt));
        Assert.Equal(results.Select(r => r.Id), queued.Ids);
        Assert.Equal(["orders", "invoices"], queued.Workers);
        Assert.Empty(edges.Statuses);
    }

    [Fact]
    public async Task Delayed_events_are_stored_and_recorded_as_scheduled_not_published()
    {
        var results = await Emit([Item("orders", runAt: Later), Item("orders"), Item("invoices", runAt: Later)]);

        var (events, maxPerWorker) = Assert.Single(edges.Scheduled);
        Assert.Equal(42, maxPerWorker);
        Assert.Equal([results[0].Id, results[2].Id], events.Select(e => e.Envelope.Id));
        Assert.All(events, e => Assert.Equal(Later, e.RunAt));
        Assert.Equal(results[1].Id, Assert.Single(edges.Published).Envelope.Id);
        Assert.Equal([results[0].Id, results[2].Id], edges.Statuses.Select(s => s.Id));
        Assert.All(edges.Statuses, s => Assert.Equal(EventStatuses.Scheduled, s.Status));
        Assert.All(edges.Statuses, s => Assert.Equal(Later, s.RunAt));
        Assert.Equal([results[1].Id], Assert.Single(edges.Emitted).Ids);
    }

    [Fact]
    public async Task A_key_an_earlier_emit_owns_answers_with_its_event_and_publishes_nothing()
    {
        var earlier = (Guid.NewGuid(), Now.AddHours(-1));
        edges.Owners["paid-7"] = earlier;

        var results = await Emit([Item("orders", key: "paid-7"), Item("orders", key: "paid-8")]);

        Assert.Equal(new Emitted(earlier.Item1, earlier.Item2), results[0]);
        Assert.Equal(["paid-7", "paid-8"], edges.Claimed!.Select(c => c.Key));
        Assert.Equal(results[1].Id, Assert.Single(edges.Published).Envelope.Id);
        Assert.Empty(edges.Released);
    }

    [Fact]
    public async Task A_refused_schedule_gives_every_claimed_key_back_and_publishes_nothing()
    {
        edges.ScheduleFails = true;

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => Emit([Item("orders", key: "a", runAt: Later), Item("orders", key: "b")]));

        Assert.Equal(["a", "b"], edges.Released.Select(c => c.Key));
        Assert.Empty(edges.Published);
        Assert.Empty(edges.Statuses);
        Assert.Empty(edges.Emitted);
    }

    public static TheoryData<Exception> Refusals => new()
    {
        new BrokerUnavailableException("the broker is away"),
        new QueueFullException("shop", "invoices", 10),
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_publish_gives_back_the_keys_of_the_unconfirmed_events_only(Exception refusal)
    {
        edges.Refuse = envelope => envelope.Worker == "invoices" ? refusal : null;
        var items = new[] { Item("orders", key: "a"), Item("invoices", key: "b"), Item("orders"), Item("invoices") };

        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => Emit(items));

        Assert.Same(refusal, thrown);
        Assert.Equal(["b"], edges.Released.Select(c => c.Key));
        var queued = Assert.Single(edges.Emitted);
        Assert.Equal(["orders", "orders"], queued.Workers);
        Assert.Equal(edges.Published.Where(p => p.Envelope.Worker == "orders").Select(p => p.Envelope.Id), queued.Ids);
    }

    [Fact]
    public async Task Any_other_publish_failure_keeps_the_keys()
    {
        edges.Refuse = _ => new InvalidOperationException("a bug");

        await Assert.ThrowsAsync<InvalidOperationException>(() => Emit([Item("orders", key: "a")]));

        Assert.Empty(edges.Released);
        Assert.Empty(edges.Emitted);
    }

    [Fact]
    public async Task Events_join_the_request_s_span_else_the_caller_s_traceparent_else_a_new_trace()
    {
        await Emit([Item("orders")], TraceParent);
        await Emit([Item("orders")]);
        using (new Activity("emit").SetIdFormat(ActivityIdFormat.W3C).Start())
            await Emit([Item("orders")], TraceParent);

        var parents = edges.Published.Select(p => p.Envelope.TraceParent!).ToList();
        Assert.Equal(TraceParent, parents[0]);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", parents[1]);
        Assert.NotEqual(TraceParent, parents[1]);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", parents[2]);
        Assert.NotEqual(TraceParent, parents[2]);
    }

    [Fact]
    public async Task Debounced_emits_answer_their_keys_run_a_trailing_one_is_scheduled_and_nothing_is_published()
    {
        var trailing = Debounce.Of("doc-17", TimeSpan.FromSeconds(5));
        var results = await Emit(
            [Item("index") with { Debounce = trailing }, Item("index") with { Debounce = trailing }, Item("orders")]);

        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[2].Id, Assert.Single(edges.Published).Envelope.Id);
        Assert.Equal(2, edges.Statuses.Count);
        Assert.All(edges.Statuses, s => Assert.Equal((results[0].Id, EventStatuses.Scheduled), (s.Id, s.Status)));
        Assert.Equal(results[0].EnqueuedAt.AddSeconds(5), edges.Statuses[^1].RunAt);
    }

    [Fact]
    public async Task A_leading_run_is_published_with_its_key_and_gives_the_key_back_when_the_broker_refuses_it()
    {
        var leading = new Debounce("doc-3", TimeSpan.FromSeconds(5), Trailing: false, TimeSpan.FromSeconds(50));
        var first = await Emit([Item("index") with { Debounce = leading }]);
        var published = Assert.Single(edges.Published).Envelope;
        Assert.Equal((first[0].Id, "doc-3", 1), (published.Id, published.DebounceKey, published.Absorbed));
        var absorbed = await Emit([Item("index") with { Debounce = leading }]);
        Assert.Equal(first[0], absorbed[0]);
        Assert.Single(edges.Published);

        edges.Runs.Clear();
        edges.Refuse = _ => new BrokerUnavailableException("the broker is away");
        await Assert.ThrowsAsync<BrokerUnavailableException>(() => Emit([Item("index") with { Debounce = leading }]));
        Assert.Equal(("index", "doc-3"), (edges.DebouncesReleased.Single().Worker, edges.DebouncesReleased[0].Key));
        Assert.Equal(edges.Published[^1].Envelope.Id, edges.DebouncesReleased[0].Id);
    }

    private Task<Emitted[]> Emit(BatchItem[] items, string? traceParent = null) =>
        emitter.EmitAsync("shop", 9, items, traceParent, CancellationToken.None);

    private static BatchItem Item(
        string worker,
        string? key = null,
        DateTimeOffset? runAt = null,
        string? orderingKey = null) =>
        new(worker, "{\"n\":1}"u8.ToArray(), key, runAt, orderingKey);

    private sealed class RecordingEdges : IEmitEdges
    {
        public Dictionary<string, (Guid Id, DateTimeOffset EnqueuedAt)> Owners { get; } = [];
        public List<(string Key, Guid Id)>? Claimed { get; private set; }
        public List<(string Key, Guid Id)> Released { get; } = [];
        public List<(IReadOnlyList<ScheduledEvent> Events, int MaxPerWorker)> Scheduled { get; } = [];
        public bool ScheduleFails { get; set; }
        public List<(EventEnvelope Envelope, ReadOnlyMemory<byte> Body)> Published { get; } = [];
        public Func<EventEnvelope, Exception?> Refuse { get; set; } = _ => null;
        public List<EventStatusUpdate> Statuses { get; } = [];
        public List<EmittedEvents> Emitted { get; } = [];

        public Task<IReadOnlyDictionary<string, (Guid Id, DateTimeOffset EnqueuedAt)>> ClaimAsync(
            string canvas,
            long canvasIncarnation,
            IReadOnlyList<(string Key, Guid Id)> claims,
            DateTimeOffset enqueuedAt,
            CancellationToken cancellationToken)
        {
            Claimed = [.. claims];
            var owners = claims.ToDictionary(
                c => c.Key,
                c => Owners.TryGetValue(c.Key, out var owner) ? owner : (c.Id, enqueuedAt),
                StringComparer.Ordinal);
            return Task.FromResult<IReadOnlyDictionary<string, (Guid Id, DateTimeOffset EnqueuedAt)>>(owners);
        }

        public Task ReleaseAsync(
            string canvas,
            IReadOnlyList<(string Key, Guid Id)> claims,
            CancellationToken cancellationToken)
        {
            Released.AddRange(claims);
            return Task.CompletedTask;
        }

        public Task ScheduleAsync(
            string canvas,
            long canvasIncarnation,
            IReadOnlyList<ScheduledEvent> events,
            int maxPerWorker,
            CancellationToken cancellationToken)
        {
            if (ScheduleFails) return Task.FromException(new InvalidOperationException("the worker's limit"));
            Scheduled.Add(([.. events], maxPerWorker));
            return Task.CompletedTask;
        }

        public IReadOnlyList<Task> PublishInOrder(
            IReadOnlyList<(EventEnvelope Envelope, ReadOnlyMemory<byte> Body)> events,
            CancellationToken cancellationToken)
        {
            Published.AddRange(events);
            return events.Select(e => Refuse(e.Envelope) is { } refusal
                ? Task.FromException(refusal)
                : Task.CompletedTask).ToList();
        }

        public void RecordStatus(EventStatusUpdate update) => Statuses.Add(update);

        public Task<BatchChange> AddToBatchAsync(
            string canvas,
            BatchTarget batch,
            IReadOnlyList<(Guid Id, string Worker)> events,
            CancellationToken cancellationToken) => Task.FromResult(BatchChange.Done);

        public void RecordEmitted(EmittedEvents events) => Emitted.Add(events);

        /// <summary>Each key's run, as the store keeps it: every later emit of the key is absorbed.</summary>
        public Dictionary<string, DebounceOutcome> Runs { get; } = [];
        public List<(string Worker, string Key, Guid Id)> DebouncesReleased { get; } = [];

        public Task<DebounceOutcome> DebounceAsync(
            EventEnvelope envelope,
            ReadOnlyMemory<byte> body,
            Debounce debounce,
            string? idempotencyKey,
            int maxScheduled,
            CancellationToken cancellationToken)
        {
            var runAt = debounce.Trailing ? envelope.EnqueuedAt + debounce.Period : (DateTimeOffset?)null;
            var outcome = Runs.TryGetValue(debounce.Key, out var run)
                ? run with { Started = false, RunAt = runAt, Absorbed = run.Absorbed + 1 }
                : new DebounceOutcome(envelope.Id, envelope.EnqueuedAt, true, runAt, 1);
            Runs[debounce.Key] = outcome;
            return Task.FromResult(outcome);
        }

        public Task ReleaseDebounceAsync(string canvas, string worker, string key, Guid id,
            CancellationToken cancellationToken)
        {
            DebouncesReleased.Add((worker, key, id));
            return Task.CompletedTask;
        }
    }
}
