using System.CommandLine;
using Workq.Client;

namespace Workq.Cli.Commands;

/// <summary>
/// <c>deploy</c>, <c>workers</c>, <c>worker</c>, and the state commands <c>pause|resume|block|unblock</c>.
/// </summary>
internal static class WorkerCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        yield return Deploy(app);
        yield return Workers(app);
        yield return Worker(app);
        yield return RateLimitCommand(app);
        yield return State(
            app,
            "pause",
            "Pause a worker: events keep queueing",
            (c, canvas, worker, _, ct) => c.PauseAsync(canvas, worker, ct));
        yield return State(
            app,
            "resume",
            "Resume a paused worker: its queue drains",
            (c, canvas, worker, _, ct) => c.ResumeAsync(canvas, worker, ct));
        yield return State(
            app,
            "block",
            "Block a worker (admin); only unblock undoes it",
            (c, canvas, worker, reason, ct) => c.BlockAsync(canvas, worker, reason, ct),
            withReason: true);
        yield return State(
            app,
            "unblock",
            "Unblock a worker (admin): back to its state under the block",
            (c, canvas, worker, _, ct) => c.UnblockAsync(canvas, worker, ct));
    }

    private static Command Deploy(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER") { Description = "The worker to create or update" };
        var file = new Argument<string>("FILE") { Description = "The handler's C# script body" };
        var concurrency = new Option<int?>("--concurrency")
        {
            Description = "Events one worker instance runs at once (1-1000)"
        };
        var rateLimit = RateLimitOption();
        return app.Action(new Command("deploy", "Deploy a worker's code as a new version") {
            target,
            file,
            concurrency,
            rateLimit }, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            var path = cli.Get(file);
            var code = await CliContext.ReadFileAsync(path, ct);
            Worker deployed;
            try
            {
                deployed = await cli.Control.DeployWorkerAsync(
                    canvas,
                    worker,
                    code,
                    RateLimitSettings(cli.Get(rateLimit)) with { Concurrency = cli.Get(concurrency) },
                    ct);
            }
            catch (WorkqException e) when (e.Errors.Count > 0)
            {
                // Like a compiler, so editors and terminals can jump to the spot; the summary line follows.
                foreach (var error in e.Errors) app.Error
                    .WriteLine($"{path}:{error.Line}:{error.Column}: {WorkqCli.OneLine(error.Message)}");
                throw;
            }
            cli.Out.WriteLine($"deployed {canvas}/{worker} version {deployed.Version} ({deployed.State}, concurrency " +
                $"{deployed.Concurrency})");
        });
    }

    private static Command Workers(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var json = CliApp.JsonOption();
        return app.Action(new Command("workers", "List a canvas's workers with state and counts") {
            canvas,
            json }, async (cli, ct) =>
        {
            cli.WriteList(await cli.Control.ListWorkersAsync(cli.Get(canvas), ct), json,
                ["NAME", "STATE", "VERSION", "CONCURRENCY", "QUEUED", "IN-FLIGHT", "PROCESSED", "FAILED",
                    "DEAD-LETTERED", "CONSUMERS", "SLEEPING", "WAITING"], w =>
                [
                    w.Name, w.State, w.Version.ToString(), w.Concurrency.ToString(), w.Stats.Queued.ToString(), w.Stats
                        .InFlight
                        .ToString(),
                    w.Stats.Processed.ToString(), w.Stats.Failed.ToString(), w.Stats.DeadLettered.ToString(), w.Stats
                        .Consumers
                        .ToString(),
                    // Last, so the columns scripts read by position keep their places.
                    w.Stats.Sleeping.ToString(), w.Stats.Waiting.ToString(),
                ]);
        });
    }

    private static Command Worker(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        var json = CliApp.JsonOption();
        return app.Action(new Command("worker", "Show one worker: state, settings, counts and code") {
            target,
            json }, async (cli, ct) =>
        {
            var (canvas, name) = CliContext.Target(cli.Get(target));
            var worker = await cli.Control.GetWorkerAsync(canvas, name, ct);
            if (cli.Get(json))
            {
                cli.WriteJson(worker);
                return;
            }
            TextTable.WritePairs(cli.Out, Describe(worker));
            cli.Out.WriteLine("code:");
            cli.Out.WriteLine(worker.Code);
        });
    }

    private static IEnumerable<(string, string)> Describe(Worker worker)
    {
        yield return ("worker", $"{worker.Canvas}/{worker.Name}");
        yield return ("version", worker.Version.ToString());
        yield return ("state", worker.State);
        if (worker.BlockedReason is { } reason) yield return ("blocked reason", reason);
        yield return ("concurrency", worker.Concurrency.ToString());
        yield return ("retry", worker.Retry is { } retry
            ? $"{retry.MaxAttempts} attempts, backoff {string.Join(", ", (retry.BackoffSeconds ?? []).Select(s
                => $"{s}s"))}".TrimEnd(' ', ',')
            : "none");
        yield return ("rate limit", RateLimitText(worker.RateLimit));
        yield return ("queued", worker.Stats.Queued.ToString());
        // By priority once the worker has had high or low events (API.md "Priorities").
        if (worker.Stats.QueuedByPriority is { } by && (by.High > 0 || by.Low > 0))
            yield return ("queued high / normal / low", $"{by.High} / {by.Normal} / {by.Low}");
        yield return ("in flight", worker.Stats.InFlight.ToString());
        yield return ("sleeping", worker.Stats.Sleeping.ToString());
        yield return ("waiting", worker.Stats.Waiting.ToString());
        yield return ("processed", worker.Stats.Processed.ToString());
        yield return ("failed", worker.Stats.Failed.ToString());
        yield return ("dead-lettered", worker.Stats.DeadLettered.ToString());
        yield return ("consumers", worker.Stats.Consumers.ToString());
    }

    // Rate limit: "10/1s", "100/1m", "5/s" (events per seconds, minutes or hours), or "none" to remove it.
    private static Option<string> RateLimitOption() =>
        new("--rate-limit")
        {
            Description
                = "At most N events per period over every worker instance: 10/1s, 100/1m, 5/s; none removes it"
        };

    private static Command RateLimitCommand(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        var limit = new Argument<string>("LIMIT")
        {
            Description = "N/PERIOD (10/1s, 100/1m, 5/s), or none to remove it"
        };
        return app.Action(new Command("rate-limit", "Set or remove a worker's rate limit, applied live") {
            target,
            limit }, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            var changed = await cli.Control.PatchWorkerAsync(canvas, worker, RateLimitSettings(cli.Get(limit)), ct);
            cli.Out.WriteLine($"{canvas}/{worker}: rate limit {RateLimitText(changed.RateLimit)}");
        });
    }

    private static string RateLimitText(RateLimit? limit) =>
        limit is null
            ? "none"
            : $"{limit.Events} per {limit.PerSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}s";

    private static WorkerSettings RateLimitSettings(string? text)
    {
        if (text is null) return new WorkerSettings();
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) return new WorkerSettings(ClearRateLimit: true);
        var parts = text.Split('/', 2);
        if (parts.Length == 2
            && int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var events)
            && PeriodSeconds(parts[1]) is { } seconds)
            return new WorkerSettings(RateLimit: new RateLimit(events, seconds));
        throw new UsageException($"rate limit \"{text}\" is not N/PERIOD (10/1s, 100/1m, 5/s) or none");
    }

    private static double? PeriodSeconds(string period)
    {
        if (period.Length == 0) return null;
        var unit = period[^1] switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        if (unit == 0) return null;
        var number = period[..^1];
        if (number.Length == 0) return unit;
        return double.TryParse(
            number,
            System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture,
            out var value) ? value * unit : null;
    }

    private static Command State(CliApp app, string name, string description,
        Func<WorkqControlClient, string, string, string?, CancellationToken, Task<Worker>> change,
            bool withReason = false)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        var reason = new Option<string>("--reason") { Description = "Why, shown to the worker's owner" };
        var command = new Command(name, description) { target };
        if (withReason) command.Options.Add(reason);
        return app.Action(command, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            var changed = await change(cli.Control, canvas, worker, withReason ? cli.Get(reason) : null, ct);
            cli.Out.WriteLine($"{canvas}/{worker}: {changed.State}");
        });
    }
}
