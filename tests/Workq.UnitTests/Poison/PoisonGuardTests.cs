using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;

namespace Workq.UnitTests.Poison;

/// <summary>
/// A consumer's hold on one message: bounded attempts with backoff for poison, patience for an outage, and a log that
/// says it once.
/// </summary>
public sealed class PoisonGuardTests
{
    private readonly LogRecorder log = new();

    private PoisonGuard Guard() => new(new OutageLog(log, "Testing"));

    private static PostgresException Postgres(string sqlState) => new("refused", "ERROR", "ERROR", sqlState);

    private static OperationInterruptedException ChannelClosed(ushort code) =>
        new(new ShutdownEventArgs(
            RabbitMQ.Client.ShutdownInitiator.Peer,
            code,
            code == 404 ? "NOT_FOUND - no exchange" : "CONNECTION_FORCED"));

    [Fact]
    public void Data_errors_parse_errors_and_missing_exchanges_are_poison_while_outages_are_transient()
    {
        Assert.False(Failures.IsTransient(Postgres("22021")));
        Assert.False(Failures.IsTransient(Postgres("23505")));
        Assert.False(Failures.IsTransient(Postgres("54000")));
        Assert.False(Failures.IsTransient(new PoisonMessageException("no id")));
        Assert.False(Failures.IsTransient(new JsonException("bad")));
        Assert.False(Failures.IsTransient(new FormatException("bad")));
        Assert.False(Failures.IsTransient(new BrokerUnavailableException("not confirmed", ChannelClosed(404))));
        Assert.False(Failures.IsTransient(ChannelClosed(406)));

        Assert.True(Failures.IsTransient(Postgres("08006")));
        Assert.True(Failures.IsTransient(Postgres("57P01")));
        Assert.True(Failures.IsTransient(Postgres("42P01")));
        Assert.True(Failures.IsTransient(new NpgsqlException("connection refused")));
        Assert.True(Failures.IsTransient(new TimeoutException()));
        Assert.True(Failures.IsTransient(new BrokerUnavailableException("not confirmed", new TimeoutException())));
        Assert.True(Failures.IsTransient(new BrokerUnavailableException("not confirmed", ChannelClosed(320))));
        Assert.True(Failures.IsTransient(new QueueFullException("c", "w", 10)));
    }

    [Fact]
    public void A_description_is_one_line_with_its_causes_and_no_stack_trace()
    {
        var described = Failures.Describe(new InvalidOperationException("outer\nline", Postgres("22021")));
        Assert.Equal("InvalidOperationException: outer line <- PostgresException: 22021: refused", described);
        Assert.Equal(2_001, Failures.Describe(new Exception(new string('x', 5_000))).Length);
    }

    [Fact]
    public async Task A_message_that_fails_on_its_own_is_tried_three_times_with_backoff_then_quarantined_once()
    {
        var tries = 0;
        var quarantined = new List<PoisonFailure>();
        var delays = new RecordedDelays();
        var processed = await new PoisonGuard(new OutageLog(log, "Testing"), delays).RunAsync(_ =>
        {
            tries++;
            throw Postgres("22021");
        }, (failure, _) =>
        {
            quarantined.Add(failure);
            return Task.CompletedTask;
        }, CancellationToken.None);

        Assert.False(processed);
        Assert.Equal(PoisonGuard.MaxAttempts, tries);
        var failure = Assert.Single(quarantined);
        Assert.Equal(3, failure.Attempts);
        Assert.IsType<PostgresException>(failure.Error);
        // 100 ms, then 400 ms between the tries: backoff, not a hot loop.
        Assert.Equal([PoisonGuard.Backoff(1), PoisonGuard.Backoff(2)], delays.Waits);
        Assert.Equal(TimeSpan.FromMilliseconds(500), PoisonGuard.Backoff(1) + PoisonGuard.Backoff(2));
        Assert.Empty(log.Lines);
    }

    [Fact]
    public async Task A_message_that_fails_the_consumers_checks_is_quarantined_at_once()
    {
        var tries = 0;
        var quarantined = 0;
        Assert.False(await Guard().RunAsync(_ =>
        {
            tries++;
            throw new PoisonMessageException("no event id");
        }, (_, _) =>
        {
            quarantined++;
            return Task.CompletedTask;
        }, CancellationToken.None));
        Assert.Equal((1, 1), (tries, quarantined));
    }

    [Fact]
    public async Task An_outage_is_waited_out_and_logged_once_when_it_starts_and_once_when_it_ends()
    {
        var tries = 0;
        var processed = await Guard().RunAsync(
            _ => ++tries <= 4 ? throw new NpgsqlException("connection refused") : Task.CompletedTask,
            (_, _) => throw new InvalidOperationException("an outage is not poison"),
            CancellationToken.None);

        Assert.True(processed);
        Assert.Equal(5, tries);
        Assert.Collection(log.Lines,
            line => Assert.StartsWith("Warning: Testing failed (NpgsqlException: connection refused)", line),
            line => Assert.StartsWith("Information: Testing works again", line));
    }

    [Fact]
    public async Task A_quarantine_that_fails_is_tried_again_so_nothing_is_dropped()
    {
        var stored = 0;
        var tries = 0;
        Assert.False(await Guard().RunAsync(_ => throw new PoisonMessageException("bad"), (_, _) =>
        {
            if (++tries <= 2) throw new NpgsqlException("connection refused");
            stored++;
            return Task.CompletedTask;
        }, CancellationToken.None));
        Assert.Equal((3, 1), (tries, stored));
    }

    [Fact]
    public async Task Stopping_leaves_the_message_neither_processed_nor_quarantined()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var quarantined = false;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Guard().RunAsync(
            _ => throw new NpgsqlException("down"),
            (_, _) =>
            {
                quarantined = true;
                return Task.CompletedTask;
            },
            stopping.Token));
        Assert.False(quarantined);
    }

    [Fact]
    public void Outage_backoff_doubles_up_to_thirty_seconds()
    {
        Assert.InRange(PoisonGuard.OutageBackoff(1).TotalMilliseconds, 160, 240);
        Assert.InRange(PoisonGuard.OutageBackoff(4).TotalMilliseconds, 1_280, 1_920);
        Assert.InRange(PoisonGuard.OutageBackoff(1_000).TotalSeconds, 24, 36);
    }

    [Fact]
    public void An_outage_log_summarizes_once_a_minute_however_often_it_fails()
    {
        var clock = new ManualClock();
        var outage = new OutageLog(log, "Flushing", clock);
        for (var i = 0; i < 1_000; i++)
        {
            outage.Failed(new NpgsqlException("down"));
            clock.Now += TimeSpan.FromMilliseconds(200);
        }
        Assert.True(outage.IsFailing);
        outage.Succeeded();
        outage.Succeeded();
        // 200 s of failures: the start, three summaries (60, 120, 180 s), and the end.
        Assert.Equal(5, log.Lines.Count);
        Assert.Equal(4, log.Lines.Count(l => l.StartsWith("Warning:", StringComparison.Ordinal)));
        Assert.Contains("works again after 200.0 s and 1000 failed tries", log.Lines[^1]);
    }

    [Fact]
    public void Attempts_count_per_message_and_start_over_past_their_capacity()
    {
        var attempts = new Attempts<int>(capacity: 2);
        var at = DateTimeOffset.UnixEpoch;
        Assert.Equal((1, at), attempts.Fail(1, at));
        Assert.Equal((2, at), attempts.Fail(1, at.AddSeconds(1)));
        attempts.Fail(2, at);
        attempts.Forget(2);
        Assert.Equal(1, attempts.Count);
        attempts.Fail(3, at);
        // Full: the counts start over rather than grow without bound.
        Assert.Equal(1, attempts.Fail(4, at).Count);
        Assert.Equal(1, attempts.Fail(1, at).Count);
    }

    /// <summary>Each delay asked for, recorded, then over at once.</summary>
    private sealed class RecordedDelays : TimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> waits = new();

        public IReadOnlyList<TimeSpan> Waits => [.. waits];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            waits.Enqueue(dueTime);
            return TimeProvider.System.CreateTimer(callback, state, TimeSpan.Zero, period);
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}

/// <summary>What a component logged, one line per entry: "Level: message".</summary>
internal sealed class LogRecorder : ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(
        LogLevel logLevel,
        EventId eventId,
        TState state,
        Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) lock (Lines) Lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
