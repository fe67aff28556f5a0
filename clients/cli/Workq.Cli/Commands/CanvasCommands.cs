using System.CommandLine;

namespace Workq.Cli.Commands;

/// <summary><c>canvases create|list|delete</c> (admin token).</summary>
internal static class CanvasCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Canvas name" };
        var create = app.Action(new Command("create", "Create a canvas; prints its token (shown once: keep it)") {
            name }, async (cli, ct) =>
        {
            var created = await cli.Control.CreateCanvasAsync(cli.Get(name), ct);
            cli.Out.WriteLine(created.Token);
        });

        var json = CliApp.JsonOption();
        var list = app.Action(new Command("list", "List canvases with their worker counts") { json }, async (cli, ct) =>
        {
            cli.WriteList(
                await cli.Control.ListCanvasesAsync(ct),
                json,
                ["NAME", "WORKERS"],
                c => [c.Name, c.Workers.ToString()]);
        });

        var deleteName = new Argument<string>("NAME") { Description = "Canvas name" };
        var delete = app.Action(new Command("delete", "Delete a canvas with its workers, queues, crons and traces") {
            deleteName }, async (cli, ct) =>
        {
            var canvas = cli.Get(deleteName);
            await cli.Control.DeleteCanvasAsync(canvas, ct);
            cli.Out.WriteLine($"deleted canvas {canvas}");
        });

        yield return new Command("canvases", "Create, list and delete canvases (admin)") { create, list, delete };
    }
}
