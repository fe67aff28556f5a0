using System.Diagnostics;

namespace Workq.Testing;

/// <summary>
/// The docker command line, for what Testcontainers has no call for (kill with a signal, pause, network disconnect).
/// </summary>
public static class DockerCli
{
    public static async Task RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException(
            $"docker {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}");
    }
}
