using System.CommandLine;
using System.Text.Json.Nodes;

namespace Workq.Cli.Commands;

/// <summary>
/// <c>events cancel|signal</c>: steering one event by id, as <c>event</c> and <c>find</c> address it (CANVAS ID).
/// </summary>
internal static class EventControlCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        yield return new Command("events", "Steer one event: cancel it, or signal its WaitFor") {
            Cancel(app),
            Signal(app) };
    }

    private static Command Cancel(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = IdArgument();
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "cancel",
            "Cancel an event: queued, scheduled, sleeping or waiting ones at once; a running one's handler is " +
                "asked to stop, and it ends cancelled when it returns") {
                canvas,
                id,
                json },
            async (cli, ct) =>
        {
            var answer = await cli.Control.CancelEventAsync(cli.Get(canvas), EventId(cli, id), ct);
            if (cli.Get(json))
            {
                cli.WriteJson(answer);
                return;
            }
            cli.Out.WriteLine(answer.Status == "running"
                ? $"event {answer.Id}: running; its handler was asked to stop, and it ends cancelled when it returns"
                : $"event {answer.Id}: {answer.Status}");
        });
    }

    private static Command Signal(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = IdArgument();
        var name = new Argument<string>("NAME")
        {
            Description = "The signal's name, as the handler's WaitFor names it (1-100 letters, digits, - _ . :)"
        };
        var value = new Argument<string?>("JSON")
        {
            Description = "The value WaitFor returns, any JSON (default null); - reads it from standard input",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "signal",
            "Signal an event: a WaitFor(NAME) waiting for it runs again with the value; an event not waiting yet " +
                "keeps it (24 h) for its next WaitFor(NAME)") {
                canvas,
                id,
                name,
                value,
                json },
            async (cli, ct) =>
        {
            var eventId = EventId(cli, id);
            var signal = cli.Get(name);
            // The API refuses other bad names itself; these three would not even reach its route.
            if (signal is "" or "." or "..")
                throw new UsageException($"'{signal}' cannot be a signal's name in a URL: give 1-100 letters, " +
                    "digits, - _ . : (not . or .. alone)");
            var payload = await ValueAsync(cli, cli.Parse.GetValue(value), ct);
            var answer = await cli.Control.SignalAsync(cli.Get(canvas), eventId, signal, payload, ct);
            if (cli.Get(json))
            {
                cli.WriteJson(answer);
                return;
            }
            cli.Out.WriteLine(answer.Resumed
                ? $"event {answer.Id}: signal {answer.Signal} resumed it"
                : $"event {answer.Id}: signal {answer.Signal} {answer.State} for its next " +
                    $"WaitFor(\"{answer.Signal}\")");
        });
    }

    /// <summary>
    /// The signal's value: the argument, standard input for <c>-</c> (empty: null), or null without one.
    /// </summary>
    private static async Task<JsonNode?> ValueAsync(CliContext cli, string? text, CancellationToken ct)
    {
        if (text is null) return null;
        if (text != "-") return CliContext.ParseJson(text, "JSON");
        var read = await cli.In.ReadToEndAsync(ct);
        return string.IsNullOrWhiteSpace(read) ? null : CliContext.ParseJson(read, "standard input");
    }

    private static Argument<string> IdArgument() => new("ID") { Description = "The event id emit printed" };

    private static Guid EventId(CliContext cli, Argument<string> id) => Guid.TryParse(cli.Get(id), out var eventId)
        ? eventId
        : throw new UsageException($"'{cli.Get(id)}' is not an event id (a GUID)");
}
