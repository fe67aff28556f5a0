using System.CommandLine;
using Workq.Client;

namespace Workq.Cli.Commands;

/// <summary>
/// <c>emit</c>, <c>event</c>, <c>traces</c>, <c>find</c>, <c>dead-letters</c>, <c>unhandled</c>, <c>purge</c>: what
/// flows through a worker.
/// </summary>
internal static class EventCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        yield return Emit(app);
        yield return Status(app);
        yield return Traces(app);
        yield return Find(app);
        yield return DeadLetters(app);
        yield return Unhandled(app);
        yield return Purge(app);
    }

    private static Command Emit(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        var value = new Argument<string>("JSON") { Description = "The event, any JSON value" };
        var key = new Option<string>("--key")
        {
            Description = "Idempotency key: the same key within 24 hours returns the first id"
        };
        var delay = new Option<double?>("--delay")
        {
            Description = "Run it this many seconds from now (up to 30 days)"
        };
        var runAt = new Option<DateTimeOffset?>("--run-at")
        {
            Description
                = "Run it at this ISO 8601 time with an offset, e.g. 2026-12-01T18:00:00Z (up to 30 days ahead)"
        };
        var orderingKey = new Option<string>("--ordering-key")
        {
            Description
                = "Run it after the worker's earlier events with this key, one at a time (1 to 128 characters)"
        };
        var debounceKey = new Option<string>("--debounce-key")
        {
            Description = "Collapse the worker's emits with this key within --debounce-seconds into one run (its id)"
        };
        var debounceSeconds = new Option<double?>("--debounce-seconds")
        {
            Description = "The debounce period: the last emit runs this many seconds after it (over 0, up to a day)"
        };
        var leading = new Option<bool>("--debounce-leading")
        {
            Description = "Run the first emit of the period at once and drop the rest"
        };
        var priority = new Option<EmitPriority>("--priority")
        {
            Description = "high, normal (the default) or low: high starts before the worker's waiting normal events, " +
                "low after them"
        };
        return app.Action(new Command("emit", "Emit an event, now or later; prints its id") {
            target,
            value,
            key,
            delay,
            runAt,
            orderingKey,
            debounceKey,
            debounceSeconds,
            leading,
            priority }, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            if (cli.Get(delay) is not null
                && cli.Get(runAt) is not null) throw new UsageException("give --delay or --run-at, not both");
            if ((cli.Get(debounceKey) is null) != (cli.Get(debounceSeconds) is null))
                throw new UsageException("give --debounce-key and --debounce-seconds together");
            var timing = new EmitTiming(
                cli.Get(delay) is { } seconds ? DelayOf(seconds) : null,
                cli.Get(runAt),
                cli.Get(orderingKey),
                cli.Get(debounceKey) is { } debounced
                    ? new EmitDebounce(debounced, DelayOf(cli.Get(debounceSeconds)!.Value, "--debounce-seconds"),
                        cli.Get(leading))
                    : null,
                cli.Get(priority));
            var id = await cli.Emitter
                .EmitAsync(canvas, worker, CliContext.ParseJson(cli.Get(value), "JSON"), timing, cli.Get(key), ct);
            cli.Out.WriteLine(id);
        });
    }

    private const double MaxDelaySeconds = 30 * 24 * 3600;

    // Checked here as well as by the emitter: a number past TimeSpan's range (1e300, say) would not even reach it.
    internal static TimeSpan DelayOf(double seconds, string what = "--delay") => seconds is >= 0 and <= MaxDelaySeconds
        ? TimeSpan.FromSeconds(seconds)
        : throw new UsageException($"{what} takes 0 to {MaxDelaySeconds:0} seconds (30 days), not " +
            $"{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

    private const int DefaultWaitSeconds = 30;

    private static Command Status(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = new Argument<string>("ID") { Description = "The event id emit printed" };
        var wait = new Option<int?>("--wait")
        {
            Description = "Wait until the event finishes, at most SECONDS (default 30)",
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = r =>
            {
                if (r.Tokens.Count == 0) return DefaultWaitSeconds;
                if (int.TryParse(r.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                    && seconds >= 0) return seconds;
                r.AddError($"--wait takes whole seconds, not '{r.Tokens[0].Value}'");
                return null;
            },
        };
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "event",
            "An event's status: queued, running, completed, failed, ...; with --wait, once it finished") {
                canvas,
                id,
                wait,
                json },
            async (cli, ct) =>
        {
            if (!Guid.TryParse(cli
                .Get(id), out var eventId)) throw new UsageException($"'{cli.Get(id)}' is not an event id (a GUID)");
            // Given without SECONDS, the option has no value to parse: its presence means the default wait.
            var seconds = cli.Parse.GetResult(wait) is { } given
                ? cli.Get(wait) ?? (given.Tokens.Count == 0 ? DefaultWaitSeconds : null)
                : null;
            var status = seconds is { } waitFor
                ? await cli.Control.WaitForEventAsync(cli.Get(canvas), eventId, TimeSpan.FromSeconds(waitFor), ct)
                : await cli.Control.GetEventAsync(cli.Get(canvas), eventId, ct);
            if (cli.Get(json))
            {
                cli.WriteJson(status);
                return;
            }
            TextTable.Write(cli
                .Out, ["EVENT", "WORKER", "STATUS", "ATTEMPTS", "ENQUEUED", "STARTED", "FINISHED", "RESULT"],
            [[
                status.Id.ToString(), status.Worker, status.Status, status.Attempts.ToString(), TextTable.Time(
                    status.EnqueuedAt), TextTable.Time(status.StartedAt),
                TextTable.Time(status.FinishedAt), status.Error is { } error
                    ? WorkqCli.OneLine(error)
                    : TextTable.Json(status.Result),
            ]]);
            if (Until(status) is { } until) cli.Out.WriteLine(until);
            if (status.Priority != "normal") cli.Out.WriteLine($"priority: {status.Priority}");
        });
    }

    /// <summary>When an event that is not running will run: its line under the status table, or null.</summary>
    internal static string? Until(EventStatus status) => status.Status switch
    {
        "scheduled" => $"scheduled: runs at {TextTable.Time(status.RunAt)}",
        "sleeping" => $"sleeping: wakes at {TextTable.Time(status.RunAt)}",
        "waiting" => $"waiting for signal {status.WaitingFor ?? "?"} until {TextTable.Time(status.RunAt)} " +
            "(then its WaitFor times out)",
        _ => null,
    };

    private static Command Traces(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        var json = CliApp.JsonOption();
        return app.Action(new Command("traces", "The last processed events of a worker, newest first") {
            target,
            json }, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            cli.WriteList(await cli.Control.GetTracesAsync(
                canvas,
                worker,
                ct), json, ["FINISHED", "EVENT", "STATUS", "ATTEMPT", "RESUME", "STEPS", "MS", "RESULT"], t =>
            [
                TextTable.Time(t.FinishedAt), t.EventId.ToString(), t.Status, t.Attempt.ToString(), t.Resume
                    .ToString(), Steps(t), TextTable.Number(t.DurationMs),
                t.Error is { } error
                    ? TextTable.Json(System.Text.Json.Nodes.JsonValue.Create($"{error.Type}: {error.Message}"))
                    : TextTable.Json(t.Result),
            ]);
        });
    }

    /// <summary>A trace's durable steps: how many, and how many of them were replayed ("-" when none).</summary>
    private static string Steps(Workq.Client.Trace trace) => trace.Steps.Count == 0
        ? "-"
        : $"{trace.Steps.Count} ({trace.Steps.Count(s => s.Replayed)} replayed)";

    private static Command Find(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = new Argument<string>("ID") { Description = "The event id emit printed" };
        var json = CliApp.JsonOption();
        return app.Action(new Command("find", "Where an event is: its traces, dead letter, parked or cancelled copy") {
            canvas,
            id,
            json }, async (cli, ct) =>
        {
            if (!Guid.TryParse(cli
                .Get(id), out var eventId)) throw new UsageException($"'{cli.Get(id)}' is not an event id (a GUID)");
            var lookup = await cli.Control.FindEventAsync(cli.Get(canvas), eventId, ct);
            if (cli.Get(json))
            {
                cli.WriteJson(lookup);
                return;
            }
            if (lookup.Found.Count > 0)
                TextTable.Write(cli.Out, ["WHERE", "WORKER", "WHEN", "DETAIL"], lookup.Found
                    .Select(f => (IReadOnlyList<string>)(f switch
                    {
                        { Trace: { } t } => [f.Where, f.Worker, TextTable.Time(t.FinishedAt),
                                $"{t.Status}, attempt {t.Attempt}{(t.Resume > 0 ? $", resume {t.Resume}" : "")}: "
                                    + (t.Error is { } e
                            ? WorkqCli.OneLine($"{e.Type}: {e.Message}")
                            : TextTable.Json(t.Result))],
                        { DeadLetter: { } d } => [f.Where, f.Worker, TextTable.Time(
                        d.DeadLetteredAt), $"after {d.Attempts} attempt(s): {WorkqCli.OneLine(d.Reason)}"],
                        { Unhandled: { } u } => [f.Where, f.Worker, TextTable.Time(
                        u.ReceivedAt), $"parked: {TextTable.Json(u.Event)}"],
                        _ => [f.Where, f.Worker, TextTable.Time(f.CancelledAt), "un-enqueued"],
                    })));
            cli.Out.WriteLine($"note: {lookup.Note}");
        });
    }

    private static Command DeadLetters(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        var redrive = new Option<bool>(
            "--redrive")
        {
            Description
                = "Put the dead letters the filters select (every one without filters) back into the worker's queue"
        };
        var discard = new Option<bool>("--discard")
        {
            Description = "Drop the dead letters the filters select (every one without filters)"
        };
        var q = new Option<string>("--q")
        {
            Description = "Only those whose error (reason) or payload contains TEXT, case-insensitive"
        };
        var reason = new Option<string>("--reason")
        {
            Description = "Only those whose reason starts with R, e.g. \"delivery limit\" or \"retries exhausted\""
        };
        var from = new Option<string>("--from")
        {
            Description = "Only those dead-lettered at or after T (ISO 8601; UTC without an offset)"
        };
        var to = new Option<string>("--to")
        {
            Description = "Only those dead-lettered before T (ISO 8601; UTC without an offset)"
        };
        var limit = new Option<int?>("--limit") { Description = "Dead letters per page (1-1000, default 100)" };
        var cursor = new Option<string>("--cursor") { Description = "The page after the one that printed this cursor" };
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "dead-letters",
            "List or search a worker's dead letters, newest first, or redrive or discard them")
            { target, redrive, discard, q, reason, from, to, limit, cursor, json }, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            if (cli.Get(redrive)
                && cli.Get(discard)) throw new UsageException("--redrive and --discard cannot be used together");
            var filter = new DeadLetterFilter(
                cli.Get(q),
                cli.Get(reason),
                Time(cli.Get(from), "--from"),
                Time(cli.Get(to), "--to"));
            if ((cli.Get(redrive) || cli.Get(discard)) && (cli.Get(limit) is not null || cli.Get(cursor) is not null))
                throw new UsageException(
                    "--limit and --cursor page a listing; --redrive and --discard act on everything the filters " +
                        "select");
            if (cli.Get(redrive))
                cli.Out.WriteLine($"redrove {await cli.Control.RedriveDeadLettersAsync(canvas, worker, filter, ct)} " +
                    $"dead letter(s) into {canvas}/{worker}");
            else if (cli.Get(discard))
                cli.Out.WriteLine(
                    $"discarded {await cli.Control.DiscardDeadLettersAsync(canvas, worker, filter, ct)} " +
                    $"dead letter(s) of {canvas}/{worker}");
            else
            {
                var page = await cli.Control
                    .SearchDeadLettersAsync(canvas, worker, filter, cli.Get(limit), cli.Get(cursor), ct);
                cli.WriteList(page.Items, json, ["ID", "ATTEMPTS", "DEAD-LETTERED", "REASON", "EVENT"], d =>
                    [d.Id.ToString(), d.Attempts.ToString(), TextTable.Time(d.DeadLetteredAt), WorkqCli.OneLine(
                        d.Reason), TextTable.Json(d.Event)]);
                // The JSON stays the plain array scripts read; the table says where the next page is.
                if (page.NextCursor is { } next && !cli.Get(json)) cli.Out.WriteLine($"more: --cursor {next}");
            }
        });
    }

    private static DateTimeOffset? Time(string? value, string option) =>
        value is null ? null
        : DateTimeOffset.TryParse(
            value,
            System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal,
            out var at) ? at
        : throw new UsageException($"{option} must be an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z");

    private static Command Unhandled(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "unhandled",
            "Events emitted to workers that do not exist, parked until they do") { canvas, json }, async (cli, ct) =>
        {
            cli.WriteList(await cli.Control.ListUnhandledAsync(
                cli.Get(canvas),
                ct), json, ["WORKER", "COUNT", "FIRST-SEEN", "LAST-SEEN", "SAMPLE"], u =>
                [u.Worker, u.Count.ToString(), TextTable.Time(u.FirstSeen), TextTable.Time(u.LastSeen), TextTable.Json(
                    u.Sample)]);
        });
    }

    private static Command Purge(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        return app.Action(new Command("purge", "Drop every queued event of a worker") { target }, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            cli.Out.WriteLine(
                $"purged {await cli.Control.PurgeAsync(canvas, worker, ct)} event(s) from {canvas}/{worker}");
        });
    }
}
