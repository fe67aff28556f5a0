using Microsoft.Extensions.Logging.Abstractions;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>
/// The quarantine on PostgreSQL: it keeps whatever it is given whole, a status flush with a row PostgreSQL refuses
/// lands the others and quarantines that one, a quarantined event outranks its dead letter until its redrive, and a
/// bulk redrive takes only what was there when it started.
/// </summary>
public sealed class QuarantineStoreTests(ThrowawayDatabase database) : IClassFixture<ThrowawayDatabase>
{
    private readonly QuarantineStore quarantine = new(database.Db);
    private readonly EventStatusStore statuses = new(database.Db);

    private static QuarantineEntry Entry(
        string source,
        string canvas,
        byte[] body,
        RedriveKind redrive = RedriveKind.Publish) =>
        new(source, redrive, body, [], "test", 1, DateTimeOffset.UtcNow)
        {
            Canvas = canvas,
            Exchange = "",
            RoutingKey = "q"
        };

    [Fact]
    public async Task Whatever_a_message_holds_is_kept_whole()
    {
        var canvas = "keep-" + Guid.NewGuid().ToString("N")[..8];
        var body = new byte[10 * 1024 * 1024];
        Random.Shared.NextBytes(body);
        body[0] = 0;
        var properties = new RabbitMQ.Client.BasicProperties
        {
            MessageId = "not-a-guid\0",
            Headers = new Dictionary<string, object?>
            {
                ["workq-canvas"] = "c\0"u8.ToArray(),
                ["\0key"] = new byte[] { 0xc3, 0x28 },
                ["depth"] = "deep"u8.ToArray()
            },
        };
        var entry = new QuarantineEntry(
            "workq.dead-letters",
            RedriveKind.Publish,
            body,
            MessageCodec.Encode(properties),
            "dead\0letter \ud800",
            3,
            DateTimeOffset.UtcNow.AddSeconds(-1))
        {
            Canvas = canvas,
            Worker = "w\0",
            Queue = "workq.dead-letters",
            Exchange = "",
            RoutingKey = "workq.dead-letters",
            EventId = null
        };

        var id = await quarantine.AddAsync(entry, CancellationToken.None);

        var kept = (await quarantine.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(body, kept.Body);
        Assert.Equal(body.Length, kept.BodyBytes);
        Assert.Equal(("dead\u2400letter \uFFFD", "w\u2400", 3), (kept.Error, kept.Worker, kept.Attempts));
        var back = MessageCodec.Decode(kept.Properties);
        Assert.Equal(properties.MessageId, back.MessageId);
        Assert.Equal("c\0"u8.ToArray(), back.Headers!["workq-canvas"]);
        Assert.Equal(new byte[] { 0xc3, 0x28 }, back.Headers["\u2400key"]);

        var listed = Assert.Single(
            await quarantine.ListAsync(new QuarantineFilter(Canvas: canvas), null, 10, 4_096, CancellationToken.None));
        Assert.Equal((id, body.Length), (listed.Id, listed.BodyBytes));
        Assert.Equal(body[..4_096], listed.Body);
    }

    [Fact]
    public async Task A_status_flush_with_a_row_postgresql_refuses_writes_the_others_and_quarantines_that_one_once()
    {
        var canvas = "flush-" + Guid.NewGuid().ToString("N")[..8];
        var recorder = new EventStatusRecorder(
            statuses,
            quarantine,
            new EventStatusOptions(),
            NullLogger<EventStatusRecorder>.Instance);
        var good = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToList();
        var bad = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await database.CreateCanvasAsync(canvas);
        EventEnvelope Envelope(Guid id) => new(id, canvas, "w", now, 0, null);
        foreach (var id in good.Take(25)) recorder.Record(EventStatusUpdate.Queued(Envelope(id)));
        // A result that is not JSON: the upsert's result::json refuses it (22P02), and with it, whole, every status of
        // the flush.
        recorder.Record(new EventStatusUpdate(
            canvas,
            bad,
            "w",
            EventStatuses.Completed,
            EventStatuses.FinishedRank,
            1,
            now,
            FinishedAt: now,
            Result: "{not json"));
        foreach (var id in good.Skip(25)) recorder.Record(EventStatusUpdate.Queued(Envelope(id)));

        await recorder.FlushAsync(CancellationToken.None);
        await recorder.FlushAsync(CancellationToken.None);

        foreach (var id in good) Assert.Equal(
            EventStatuses.Queued,
            (await statuses.FindAsync(canvas, id, CancellationToken.None))?.Status);
        Assert.Null(await statuses.FindAsync(canvas, bad, CancellationToken.None));
        var item = Assert.Single(await quarantine.ListAsync(
            new QuarantineFilter(QuarantineSources.EventStatus, canvas),
            null,
            10,
            4_096,
            CancellationToken.None));
        Assert.Equal((bad, "w", RedriveKind.None), (item.EventId, item.Worker, item.Redrive));
        Assert.Contains("22P02", item.Error);
        Assert.Contains("{not json", Encoding.UTF8.GetString(item.Body));
    }

    [Fact]
    public async Task A_quarantined_event_outranks_its_dead_letter_until_its_redrive_starts_it_again()
    {
        var canvas = "rank-" + Guid.NewGuid().ToString("N")[..8];
        var id = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await database.CreateCanvasAsync(canvas);
        var envelope = new EventEnvelope(id, canvas, "w", now, 0, null);
        async Task<string?> StatusAfter(EventStatusUpdate update)
        {
            await statuses.UpsertAsync([update], CancellationToken.None);
            return (await statuses.FindAsync(canvas, id, CancellationToken.None))?.Status;
        }

        Assert.Equal(
            EventStatuses.DeadLettered,
            await StatusAfter(EventStatusUpdate.DeadLettered(envelope, 1, "dead\u2400letter")));
        Assert.Equal(
            EventStatuses.Quarantined,
            await StatusAfter(
                EventStatusUpdate.Quarantined(canvas, id, "w", 1, now, 12, "workq.dead-letters", "22021")));
        Assert.Equal(
            EventStatuses.Quarantined,
            await StatusAfter(EventStatusUpdate.DeadLettered(envelope, 1, "again")));
        Assert.Equal(
            EventStatuses.Queued,
            await StatusAfter(EventStatusUpdate.Queued(envelope, restartedAt: DateTimeOffset.UtcNow)));
        Assert.Equal(
            EventStatuses.DeadLettered,
            await StatusAfter(EventStatusUpdate.DeadLettered(envelope, 1, "kept this time")));
    }

    [Fact]
    public async Task A_bulk_redrive_takes_only_what_was_there_when_it_started_and_never_a_record()
    {
        var canvas = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        var filter = new QuarantineFilter(Canvas: canvas);
        for (
            var i = 0;
            i < 3;
            i++) await quarantine.AddAsync(Entry("workq.unhandled", canvas, [(byte)i]), CancellationToken.None);
        await quarantine.AddAsync(
            Entry(QuarantineSources.EventStatus, canvas, [9], RedriveKind.None),
            CancellationToken.None);

        // Each redriven message fails again and comes straight back: the redrive must still end.
        var redriven = await quarantine.RedriveAsync(filter, message => quarantine.AddAsync(
            Entry("workq.unhandled", canvas, message.Body),
            CancellationToken.None),
            CancellationToken.None);

        Assert.Equal(3, redriven);
        var left = await quarantine.ListAsync(filter, null, 10, 16, CancellationToken.None);
        Assert.Equal(4, left.Count);
        Assert.Single(left, m => m.Redrive == RedriveKind.None);
        Assert.Equal(4, await quarantine.DeleteAsync(filter, CancellationToken.None));
    }
}
