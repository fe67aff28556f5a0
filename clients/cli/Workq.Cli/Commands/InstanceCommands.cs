using System.CommandLine;

namespace Workq.Cli.Commands;

/// <summary><c>instances</c> (admin token): the live worker instances, one line per consumer.</summary>
internal static class InstanceCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        var json = CliApp.JsonOption();
        yield return app.Action(new Command(
            "instances",
            "Live worker instances with the queues each consumes (admin)") { json }, async (cli, ct) =>
        {
            var instances = await cli.Control.ListInstancesAsync(ct);
            if (cli.Get(json))
            {
                cli.WriteJson(instances);
                return;
            }
            // An instance consuming nothing still gets its line.
            TextTable.Write(cli.Out, ["INSTANCE", "HOST", "PID", "CANVASES", "CONSUMER", "PREFETCH", "IN-FLIGHT",
                "STATE"], instances.SelectMany(i =>
            {
                string[] who = [i.Id.ToString(), i.Host, i.Pid.ToString(), i.Canvases.Count == 0
                    ? "*"
                    : string.Join(',', i.Canvases)];
                return i.Consumers.Count == 0
                    ? [(IReadOnlyList<string>)[.. who, "-", "-", "-", "idle"]]
                    : i.Consumers.Select(c => (IReadOnlyList<string>)[.. who, $"{c.Canvas}/{c.Worker}", c.Prefetch
                        .ToString(), c.InFlight.ToString(), c.State]);
            }));
        });
    }
}
