using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Workq.Tests.Infrastructure;

/// <summary>One Workq service running as a real process from the build output, its output kept in a log file.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;

    public string Name { get; }
    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");
    public string LogPath { get; }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;
    public int Id => process.Id;

    private ServiceProcess(string name, int port, Process process, string logPath)
    {
        Name = name;
        Port = port;
        this.process = process;
        LogPath = logPath;
    }

    public static ServiceProcess Start(string service, string instanceName, IReadOnlyDictionary<string, string> environment, string logDirectory)
    {
        var port = FreePort();
        var dll = Path.Combine(RepoPaths.Root, "services", service.ToLowerInvariant(), "bin", RepoPaths.Configuration, "net10.0", $"Workq.{service}.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build the solution first: {dll} is missing.");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.Environment["WORKQ_PORT"] = port.ToString();
        var logPath = Path.Combine(logDirectory, $"{instanceName}.log");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Exited += (_, _) => { lock (log) log.WriteLine($"[process exited with {process.ExitCode}]"); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(instanceName, port, process, logPath);
    }

    public async Task WaitReadyAsync(HttpClient http, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{Name} exited during start:\n{Tail()}");
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "readyz"));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{Name} was not ready within {timeout}:\n{Tail()}");
    }

    /// <summary>Waits for a process that is expected to stop by itself (a refused start, say), and for its output.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGKILL: no shutdown, no acks, nothing flushed — a crash.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a service: it drains and deregisters; SIGKILL if it has not exited in time.</summary>
    public async Task StopAsync(TimeSpan patience)
    {
        if (process.HasExited) return;
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString()])) await term.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(patience);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public string Tail(int lines = 40) => File.Exists(LogPath) ? string.Join('\n', File.ReadLines(LogPath).TakeLast(lines)) : "";

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public static class RepoPaths
{
    public static readonly string Root = FindRoot();

    /// <summary>The tests run the services built in the same configuration as themselves.</summary>
    public static readonly string Configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Workq.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Workq.sln).");
    }
}
