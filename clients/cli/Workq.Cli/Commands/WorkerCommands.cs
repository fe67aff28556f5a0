using System.CommandLine;
using Workq.Client;

namespace Workq.Cli.Commands;

/// <summary><c>deploy</c>, <c>workers</c>, <c>worker</c>, and the state commands <c>pause|resume|block|unblock</c>.</summary>
internal static class WorkerCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        yield return Deploy(app);
        yield return Workers(app);
        yield return Worker(app);
        yield return State(app, "pause", "Pause a worker: events keep queueing", (c, canvas, worker, _, ct) => c.PauseAsync(canvas, worker, ct));
        yield return State(app, "resume", "Resume a paused worker: its queue drains", (c, canvas, worker, _, ct) => c.ResumeAsync(canvas, worker, ct));
        yield return State(app, "block", "Block a worker (admin); only unblock undoes it", (c, canvas, worker, reason, ct) => c.BlockAsync(canvas, worker, reason, ct), withReason: true);
        yield return State(app, "unblock", "Unblock a worker (admin): back to its state under the block", (c, canvas, worker, _, ct) => c.UnblockAsync(canvas, worker, ct));
    }

    private static Command Deploy(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER") { Description = "The worker to create or update" };
        var file = new Argument<string>("FILE") { Description = "The handler's C# script body" };
        var concurrency = new Option<int?>("--concurrency") { Description = "Events one worker instance runs at once (1-1000)" };
        return app.Action(new Command("deploy", "Deploy a worker's code as a new version") { target, file, concurrency }, async (cli, ct) =>
        {
            var (canvas, worker) = CliContext.Target(cli.Get(target));
            var path = cli.Get(file);
            string code;
            try
            {
                code = await File.ReadAllTextAsync(path, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot read {path}: {e.Message}");
            }
            Worker deployed;
            try
            {
                deployed = await cli.Control.DeployWorkerAsync(canvas, worker, code, cli.Get(concurrency), ct);
            }
            catch (WorkqException e) when (e.Errors.Count > 0)
            {
                // Like a compiler, so editors and terminals can jump to the spot; the summary line follows.
                foreach (var error in e.Errors) app.Error.WriteLine($"{path}:{error.Line}:{error.Column}: {WorkqCli.OneLine(error.Message)}");
                throw;
            }
            cli.Out.WriteLine($"deployed {canvas}/{worker} version {deployed.Version} ({deployed.State}, concurrency {deployed.Concurrency})");
        });
    }

    private static Command Workers(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var json = CliApp.JsonOption();
        return app.Action(new Command("workers", "List a canvas's workers with state and counts") { canvas, json }, async (cli, ct) =>
        {
            cli.WriteList(await cli.Control.ListWorkersAsync(cli.Get(canvas), ct), json,
                ["NAME", "STATE", "VERSION", "CONCURRENCY", "QUEUED", "IN-FLIGHT", "PROCESSED", "FAILED", "DEAD-LETTERED", "CONSUMERS"], w =>
                [
                    w.Name, w.State, w.Version.ToString(), w.Concurrency.ToString(), w.Stats.Queued.ToString(), w.Stats.InFlight.ToString(),
                    w.Stats.Processed.ToString(), w.Stats.Failed.ToString(), w.Stats.DeadLettered.ToString(), w.Stats.Consumers.ToString(),
                ]);
        });
    }

    private static Command Worker(CliApp app)
    {
        var target = new Argument<string>("CANVAS/WORKER");
        var json = CliApp.JsonOption();
        return app.Action(new Command("worker", "Show one worker: state, settings, counts and code") { target, json }, async (cli, ct) =>
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
            ? $"{retry.MaxAttempts} attempts, backoff {string.Join(", ", (retry.BackoffSeconds ?? []).Select(s => $"{s}s"))}".TrimEnd(' ', ',')
            : "none");
        yield return ("queued", worker.Stats.Queued.ToString());
        yield return ("in flight", worker.Stats.InFlight.ToString());
        yield return ("processed", worker.Stats.Processed.ToString());
        yield return ("failed", worker.Stats.Failed.ToString());
        yield return ("dead-lettered", worker.Stats.DeadLettered.ToString());
        yield return ("consumers", worker.Stats.Consumers.ToString());
    }

    private static Command State(CliApp app, string name, string description,
        Func<WorkqControlClient, string, string, string?, CancellationToken, Task<Worker>> change, bool withReason = false)
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
