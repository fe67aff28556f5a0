using System.CommandLine;

namespace Workq.Cli.Commands;

/// <summary>
/// <c>crons list CANVAS | crons set CANVAS/NAME --schedule S --worker W [--event JSON] | crons delete CANVAS/NAME</c>.
/// </summary>
internal static class CronCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var json = CliApp.JsonOption();
        var list = app.Action(new Command("list", "List a canvas's crons with their next and last runs") {
            canvas,
            json }, async (cli, ct) =>
        {
            cli.WriteList(await cli.Control.ListCronsAsync(
                cli.Get(canvas),
                ct), json, ["NAME", "SCHEDULE", "WORKER", "NEXT-RUN", "LAST-RUN", "EVENT"], c =>
                [c.Name, c.Schedule, c.Worker, TextTable.Time(c.NextRun), TextTable.Time(c.LastRun), TextTable.Json(
                    c.Event)]);
        });

        var setTarget = new Argument<string>("CANVAS/NAME");
        var schedule = new Option<string>("--schedule")
        {
            Description = "Five-field cron expression, UTC, e.g. \"*/5 * * * *\"",
            Required = true
        };
        var worker = new Option<string>("--worker") { Description = "The worker each tick emits to", Required = true };
        var value = new Option<string>("--event") { Description = "The event each tick emits (JSON; default null)" };
        var set = app.Action(new Command("set", "Create or replace a cron") {
            setTarget,
            schedule,
            worker,
            value }, async (cli, ct) =>
        {
            var (canvasName, name) = CliContext.Target(cli.Get(setTarget), "NAME");
            var payload = cli.Get(value) is { } text ? CliContext.ParseJson(text, "--event") : null;
            await cli.Control.PutCronAsync(canvasName, name, cli.Get(schedule)!, cli.Get(worker)!, payload, ct);
            cli.Out.WriteLine($"cron {canvasName}/{name}: \"{cli.Get(schedule)}\" -> {cli.Get(worker)}");
        });

        var deleteTarget = new Argument<string>("CANVAS/NAME");
        var delete = app.Action(new Command("delete", "Delete a cron") { deleteTarget }, async (cli, ct) =>
        {
            var (canvasName, name) = CliContext.Target(cli.Get(deleteTarget), "NAME");
            await cli.Control.DeleteCronAsync(canvasName, name, ct);
            cli.Out.WriteLine($"deleted cron {canvasName}/{name}");
        });

        yield return new Command("crons", "Scheduled emits") { list, set, delete };
    }
}
