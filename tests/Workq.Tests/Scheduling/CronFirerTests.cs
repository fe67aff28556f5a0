using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Workq.Dispatcher.Crons;
using Workq.Shared.Messaging;
using Workq.Shared.Scheduling;
using Workq.Shared.Storage;

namespace Workq.Tests.Scheduling;

/// <summary>
/// The dispatchers' firing logic on the real PostgreSQL with a fake clock and a recording publisher:
/// due ticks fire once, never early, the latest only after downtime, one winner among dispatchers,
/// changes and deletes count at once, and a failed publish gives the tick back.
/// </summary>
public sealed class CronFirerTests(ThrowawayDatabase database) : IClassFixture<ThrowawayDatabase>, IAsyncLifetime
{
    // A Wednesday, half a minute past midnight.
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 0, 0, 30, TimeSpan.Zero);

    private readonly FakeTimeProvider clock = new(Start);
    private readonly ConcurrentQueue<(EventEnvelope Envelope, string Body)> published = new();
    private readonly string canvas = "fire-" + Guid.NewGuid().ToString("N")[..12];
    private CronStore Store => new(database.Db);

    private readonly WarningLog log = new();

    private CronFirer Firer(PublishEvent? publish = null)
        => new(Store, new QuarantineStore(database.Db), publish ?? Record, clock, log);

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// The tests share a database, and a dispatcher fires every due cron in it: each test takes its canvas away.
    /// </summary>
    public async Task DisposeAsync()
    {
        var canvases = new CanvasStore(database.Db);
        await canvases.MarkDeletingAsync(canvas, CancellationToken.None);
        await Store.DeleteCanvasAsync(canvas, CancellationToken.None);
        await canvases.DeleteAsync(canvas, CancellationToken.None);
    }

    private Task Record(EventEnvelope envelope, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        published.Enqueue((envelope, Encoding.UTF8.GetString(body.Span)));
        return Task.CompletedTask;
    }

    private static Task Fail(EventEnvelope envelope, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        throw new BrokerUnavailableException("The broker did not confirm the event.");

    private async Task PutAsync(string name, string schedule, string worker = "w", string eventJson = "null")
    {
        await new CanvasStore(database.Db).CreateAsync(
            canvas,
            "hash-" + canvas,
            _ => Task.CompletedTask,
            CancellationToken.None);
        Assert.True(CronSchedule.TryParse(schedule, out var parsed, out var error), error);
        Assert.NotNull(await Store.PutAsync(
            canvas,
            0,
            name,
            parsed!.Expression,
            worker,
            eventJson,
            parsed.NextAfter(clock.GetUtcNow()),
            CancellationToken.None));
    }

    private async Task<CronRecord> GetAsync(string name)
        => (await Store.GetAsync(canvas, name, CancellationToken.None))!;

    /// <returns>How many of this test's ticks were published.</returns>
    private async Task<int> FireAsync(CronFirer? firer = null)
    {
        var (before, warned) = (Mine().Count, log.Warnings.Count);
        await (firer ?? Firer()).FireDueAsync(CancellationToken.None);
        Assert.True(log.Warnings.Count == warned || firer is not null, string.Join("\n", log.Warnings));
        return Mine().Count - before;
    }

    private static DateTimeOffset At(int hour, int minute, int day = 2)
        => new(2030, 1, day, hour, minute, 0, TimeSpan.Zero);

    private List<(EventEnvelope Envelope, string Body)> Mine()
        => published.Where(p => p.Envelope.Canvas == canvas).ToList();

    [Fact]
    public async Task A_due_tick_fires_once_as_an_ordinary_event_and_never_early()
    {
        await PutAsync("every5", "*/5 * * * *", worker: "report", eventJson: """{"kind": "daily"}""");
        Assert.Equal(At(0, 5), (await GetAsync("every5")).NextRun);

        clock.SetUtcNow(At(0, 5).AddMilliseconds(-1));
        Assert.Equal(0, await FireAsync());
        Assert.Empty(Mine());

        clock.SetUtcNow(At(0, 5).AddMilliseconds(40));
        Assert.Equal(1, await FireAsync());
        Assert.Equal(0, await FireAsync());
        var (envelope, body) = Assert.Single(Mine());
        Assert.Equal("report", envelope.Worker);
        Assert.Equal(0, envelope.Depth);
        Assert.Equal("""{"kind": "daily"}""", body);
        Assert.Equal(7, envelope.Id.Version);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", envelope.TraceParent!);
        Assert.Equal(clock.GetUtcNow(), envelope.EnqueuedAt);

        var cron = await GetAsync("every5");
        Assert.Equal(At(0, 5), cron.LastRun);
        Assert.Equal(At(0, 10), cron.NextRun);

        clock.SetUtcNow(At(0, 10));
        Assert.Equal(1, await FireAsync());
        Assert.NotEqual(Mine()[0].Envelope.TraceParent![3..35], Mine()[1].Envelope.TraceParent![3..35]);
    }

    [Fact]
    public async Task After_downtime_only_the_latest_missed_tick_fires()
    {
        await PutAsync("minutely", "* * * * *");
        clock.SetUtcNow(At(3, 30).AddSeconds(30));
        Assert.Equal(1, await FireAsync());
        Assert.Equal(0, await FireAsync());
        Assert.Single(Mine());
        var cron = await GetAsync("minutely");
        Assert.Equal(At(3, 30), cron.LastRun);
        Assert.Equal(At(3, 31), cron.NextRun);
    }

    [Fact]
    public async Task Many_dispatchers_publish_each_tick_exactly_once()
    {
        await PutAsync("contended", "* * * * *");
        var firers = Enumerable.Range(0, 4).Select(_ => Firer()).ToList();
        for (var minute = 1; minute <= 15; minute++)
        {
            clock.SetUtcNow(At(0, minute));
            await Task.WhenAll(firers.Select(f => f.FireDueAsync(CancellationToken.None)));
            Assert.True(
                Mine().Count == minute,
                $"{Mine().Count} events after minute {minute}: {string.Join("\n", log.Warnings)}");
        }
        var ticks = Mine().Select(p => p.Envelope.EnqueuedAt).ToList();
        Assert.Equal(15, ticks.Count);
        Assert.Equal(15, ticks.Distinct().Count());
    }

    [Fact]
    public async Task A_deleted_cron_does_not_fire()
    {
        await PutAsync("gone", "* * * * *");
        Assert.True(await Store.DeleteAsync(canvas, "gone", CancellationToken.None));
        Assert.False(await Store.DeleteAsync(canvas, "gone", CancellationToken.None));
        clock.SetUtcNow(At(0, 5));
        Assert.Equal(0, await FireAsync());
        Assert.Empty(Mine());
    }

    [Fact]
    public async Task A_changed_schedule_counts_from_the_change_and_a_changed_event_keeps_the_due_tick()
    {
        await PutAsync("moved", "*/5 * * * *");
        // Moved to once a year before its 00:05 tick: nothing at 00:05.
        clock.SetUtcNow(At(0, 4));
        await PutAsync("moved", "0 0 1 1 *");
        Assert.Equal(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero), (await GetAsync("moved")).NextRun);
        clock.SetUtcNow(At(0, 5));
        Assert.Equal(0, await FireAsync());

        // Same schedule, new event and worker, just after a tick that has not fired yet: that tick fires with the new
        // ones.
        await PutAsync("kept", "*/5 * * * *", eventJson: "1");
        clock.SetUtcNow(At(0, 10).AddMilliseconds(300));
        await PutAsync("kept", "*/5 * * * *", worker: "other", eventJson: "2");
        Assert.Equal(1, await FireAsync());
        var (envelope, body) = Assert.Single(Mine());
        Assert.Equal(("other", "2"), (envelope.Worker, body));
    }

    [Fact]
    public async Task A_failed_publish_releases_the_tick_for_the_next_pass()
    {
        await PutAsync("flaky", "0 * * * *");
        clock.SetUtcNow(At(1, 0));
        Assert.Equal(0, await FireAsync(Firer(Fail)));
        Assert.Null((await GetAsync("flaky")).LastRun);
        Assert.Equal(0, await TickCountAsync());

        clock.SetUtcNow(At(1, 0).AddSeconds(1));
        Assert.Equal(1, await FireAsync());
        Assert.Equal(At(1, 0), (await GetAsync("flaky")).LastRun);

        // Down across two ticks: only the latest fires once the broker is back.
        clock.SetUtcNow(At(2, 0));
        Assert.Equal(0, await FireAsync(Firer(Fail)));
        clock.SetUtcNow(At(3, 0).AddSeconds(5));
        Assert.Equal(0, await FireAsync(Firer(Fail)));
        Assert.Equal(1, await FireAsync());
        Assert.Equal(2, Mine().Count);
        Assert.Equal(At(3, 0), (await GetAsync("flaky")).LastRun);
    }

    private static Task Refuse(EventEnvelope envelope, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
        =>
        throw new InvalidOperationException("message size 268435456 is larger than configured max size");

    private async Task<IReadOnlyList<QuarantinedMessage>> QuarantinedAsync() =>
        await new QuarantineStore(database.Db).ListAsync(
            new QuarantineFilter(QuarantineSources.Crons, canvas),
            null,
            10,
            4_096,
            CancellationToken.None);

    [Fact]
    public async Task A_tick_the_broker_refuses_for_its_own_reasons_is_quarantined_on_the_third_pass_the_cron_goes_on()
    {
        await PutAsync("refused", "0 * * * *", worker: "report", eventJson: """{"big": true}""");
        var firer = Firer(Refuse);
        for (var pass = 0; pass < 2; pass++)
        {
            clock.SetUtcNow(At(1, 0).AddSeconds(pass));
            Assert.Equal(0, await FireAsync(firer));
            Assert.Empty(await QuarantinedAsync());
            Assert.Null((await GetAsync("refused")).LastRun);
        }
        Assert.Empty(log.Warnings);

        clock.SetUtcNow(At(1, 0).AddSeconds(2));
        Assert.Equal(0, await FireAsync(firer));
        var item = Assert.Single(await QuarantinedAsync());
        Assert.Equal(
            ("report", 3, RedriveKind.Emit, "refused"),
            (item.Worker, item.Attempts, item.Redrive, item.Queue));
        Assert.Equal("""{"big": true}""", Encoding.UTF8.GetString(item.Body));
        Assert.Contains("larger than configured max size", item.Error);
        // Logged once, and the cron moved on to its next tick as if this one fired.
        Assert.Single(log.Warnings);
        var cron = await GetAsync("refused");
        Assert.Equal((At(1, 0), At(2, 0)), (cron.LastRun, cron.NextRun));
        clock.SetUtcNow(At(1, 0).AddSeconds(3));
        Assert.Equal(0, await FireAsync(firer));
        Assert.Single(await QuarantinedAsync());
    }

    [Fact]
    public async Task A_cron_whose_schedule_no_longer_parses_is_quarantined_once_and_stops_until_it_is_put_again()
    {
        await PutAsync("broken", "0 * * * *", eventJson: "7");
        await using (var connection = await database.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                "update crons set schedule = '61 * * * *' where canvas = @canvas and name = 'broken'",
                new { canvas });

        for (var pass = 0; pass < 3; pass++)
        {
            clock.SetUtcNow(At(1, 0).AddSeconds(pass));
            Assert.Equal(0, await FireAsync(Firer()));
        }

        var item = Assert.Single(await QuarantinedAsync());
        Assert.Contains("61 * * * *", item.Error);
        Assert.Equal("7", Encoding.UTF8.GetString(item.Body));
        Assert.Single(log.Warnings);
        Assert.DoesNotContain(await Store.DueAsync(At(23, 0), 1_000, CancellationToken.None), c => c.Canvas == canvas);

        await PutAsync("broken", "30 * * * *", eventJson: "7");
        clock.SetUtcNow(At(1, 30));
        Assert.Equal(1, await FireAsync(Firer()));
    }

    [Fact]
    public async Task A_claim_left_by_a_dead_dispatcher_is_taken_over_after_a_minute()
    {
        await PutAsync("orphan", "0 * * * *");
        // A dispatcher claims 01:00 and dies before publishing.
        Assert.NotNull(await Store.ClaimAsync(
            canvas,
            "orphan",
            At(1, 0),
            Guid.CreateVersion7(),
            At(1, 0),
            At(1, 0) - CronFirer.StaleClaim,
            CancellationToken.None));
        clock.SetUtcNow(At(1, 0).AddSeconds(30));
        Assert.Equal(0, await FireAsync());
        clock.SetUtcNow(At(1, 1).AddSeconds(1));
        Assert.Equal(1, await FireAsync());
        Assert.Equal(At(1, 0), (await GetAsync("orphan")).LastRun);
    }

    [Fact]
    public async Task An_older_tick_never_fires_after_a_newer_one()
    {
        await PutAsync("ordered", "* * * * *");
        clock.SetUtcNow(At(0, 2));
        Assert.Equal(1, await FireAsync());
        // A lagging dispatcher that still believes 00:01 is the latest tick cannot claim it.
        Assert.Null(await Store.ClaimAsync(
            canvas,
            "ordered",
            At(0, 1),
            Guid.CreateVersion7(),
            At(0, 2),
            At(0, 1),
            CancellationToken.None));
    }

    [Fact]
    public async Task Old_tick_records_are_cleaned_up_and_the_canvas_delete_takes_crons_and_ticks()
    {
        await PutAsync("old", "0 * * * *");
        clock.SetUtcNow(At(1, 0));
        Assert.Equal(1, await FireAsync());
        clock.SetUtcNow(At(2, 0));
        Assert.Equal(1, await FireAsync());
        clock.SetUtcNow(At(2, 30, day: 3));
        Assert.Equal(1, await FireAsync());
        await Firer().CleanUpAsync(CancellationToken.None);
        Assert.Equal(1, await TickCountAsync());

        await Store.DeleteCanvasAsync(canvas, CancellationToken.None);
        Assert.Equal(0, await TickCountAsync());
        await using var connection = await database.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "select count(*) from crons where canvas = @canvas",
            new { canvas }));
    }

    private async Task<long> TickCountAsync()
    {
        await using var connection = await database.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(
            "select count(*) from cron_ticks where canvas = @canvas",
            new { canvas });
    }
}

/// <summary>Keeps the warnings a component logs, so a test can show them.</summary>
internal sealed class WarningLog : ILogger<CronFirer>
{
    public ConcurrentQueue<string> Warnings { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(
        LogLevel logLevel,
        EventId eventId,
        TState state,
        Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) Warnings.Enqueue($"{formatter(state, exception)} {exception}");
    }
}
