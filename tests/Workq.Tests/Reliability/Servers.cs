namespace Workq.Tests.Reliability;

/// <summary>Stops and starts the real servers the suite runs on (root, as in CI).</summary>
public static class Servers
{
    public static async Task RabbitMqAsync(string command) => await RunAsync("rabbitmqctl", command);

    public static async Task PostgresAsync(string command)
    {
        var cluster = (await RunAsync("pg_lsclusters", "-h")).Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        await RunAsync("pg_ctlcluster", $"{cluster[0]} {cluster[1]} {command}");
        if (command == "start")
        {
            for (
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                DateTime.UtcNow < deadline;
                await Task.Delay(200))
                if ((await RunAsync("pg_isready", "-h 127.0.0.1", check: false)).Contains("accepting")) return;
        }
    }

    private static async Task<string> RunAsync(string file, string arguments, bool check = true)
    {
        using var process = Process.Start(
            new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (check && process.ExitCode != 0) throw new InvalidOperationException(
            $"{file} {arguments} failed ({process.ExitCode}): {stderr}");
        return stdout + stderr;
    }
}
