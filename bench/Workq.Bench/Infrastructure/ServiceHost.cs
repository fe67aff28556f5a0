using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Workq.Bench.Infrastructure;

/// <summary>One Workq service run from its Release build output as a process of its own, its output in a log file.</summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    public string Name { get; }
    public Uri Url { get; }
    public int ProcessId => process.Id;

    private ServiceHost(string name, Uri url, Process process, StreamWriter log)
    {
        Name = name;
        Url = url;
        this.process = process;
        this.log = log;
    }

    /// <param name="logName">The log file's name without .log; <paramref name="name"/> by default (a restarted service needs another, to keep the first log).</param>
    /// <param name="name">What it is called in the figures (its CPU column); the service's name by default. A second instance of a service needs another.</param>
    public static ServiceHost Start(string service, IReadOnlyDictionary<string, string> environment, string logDirectory, string? logName = null, string? name = null)
    {
        var dll = Path.Combine(RepoRoot.Path, "services", service.ToLowerInvariant(), "bin", "Release", "net10.0", $"Workq.{service}.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build Release first (./bench.sh does): {dll} is missing.");
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoRoot.Path,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.Environment["WORKQ_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var log = new StreamWriter(Path.Combine(logDirectory, $"{logName ?? (name ?? service).ToLowerInvariant()}.log")) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceHost(name ?? service, new Uri($"http://127.0.0.1:{port}/"), process, log);
    }

    public async Task WaitReadyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(90));
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{Name} exited during start; see its log.");
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "readyz"), deadline.Token);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>Resident memory and CPU time so far, from /proc.</summary>
    public ProcessSample Sample() => ProcessSample.Of(process.Id);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        lock (log) log.Dispose();
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null) return;
        lock (log) if (log.BaseStream.CanWrite) log.WriteLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public static class RepoRoot
{
    public static readonly string Path = Find();

    private static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Workq.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Workq.sln).");
    }
}
