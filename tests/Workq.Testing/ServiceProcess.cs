using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Workq.Testing;

/// <summary>
/// One Workq service running as a real process from the build output, on a free port, its output kept in a log file:
/// the one launcher of the tests and the bench.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly string[] AdminPrefixes = ["WORKQ_TEST_", "WORKQ_BENCH_", "WORKQ_SERVERS_"];

    private readonly Process process;
    private readonly StreamWriter log;

    /// <summary>
    /// What the instance is called: in failure messages, and in the bench's figures (its CPU column).
    /// </summary>
    public string Name { get; }
    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");
    public string LogPath { get; }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;
    public int Id => process.Id;

    private ServiceProcess(string name, int port, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        Port = port;
        this.process = process;
        this.log = log;
        LogPath = logPath;
    }

    /// <param name="service">The service's project name: Control, Emitter, Dispatcher or Worker.</param>
    /// <param name="name">The instance's name; a second instance of a service needs another.</param>
    /// <param name="logName">The log file's name without .log, <paramref name="name"/> by default (a restarted instance
    /// keeps its first log under another).</param>
    /// <param name="port">The port to listen on (a restarted service keeps its clients' address); a free one by
    /// default.</param>
    /// <param name="launcher">A command that starts <c>dotnet</c> and the service's dll (its last arguments), to put
    /// the service somewhere.</param>
    public static ServiceProcess Start(
        string service,
        string name,
        IReadOnlyDictionary<string, string> environment,
        string logDirectory,
        string? logName = null,
        int? port = null,
        IReadOnlyList<string>? launcher = null)
    {
        var dll = Path.Combine(
            RepoPaths.Root,
            "services",
            service.ToLowerInvariant(),
            "bin",
            RepoPaths.Configuration,
            "net10.0",
            $"Workq.{service}.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException(
            $"Build the solution ({RepoPaths.Configuration}) first: {dll} is missing.");
        var listenOn = port ?? FreePort();
        string[] command = [.. launcher ?? [], "dotnet", dll];
        var start = new ProcessStartInfo(command[0], command[1..])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        // The tests' and the bench's own settings hold the servers' administrator: never the services'.
        foreach (var key in start.Environment.Keys.Where(
            k => AdminPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList()) start.Environment
                .Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.Environment["WORKQ_PORT"] = listenOn.ToString(CultureInfo.InvariantCulture);
        var logPath = Path.Combine(logDirectory, $"{(logName ?? name).ToLowerInvariant()}.log");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Exited += (_, _) => Write(log, $"[process exited with {process.ExitCode}]");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(name, listenOn, process, log, logPath);
    }

    /// <summary>
    /// Polls /readyz until it answers 2xx; fails at once, with the log's tail, if the process exits first.
    /// </summary>
    public async Task WaitReadyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{Name} exited during start:\n{Tail()}");
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "readyz"), cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException)
            {
                // Not listening yet, or gone as the connection opened (a socket error HttpClient does not wrap): the
                // next pass says which.
            }
            await Task.Delay(100, cancellationToken);
        }
        throw new TimeoutException($"{Name} was not ready within {timeout}:\n{Tail()}");
    }

    /// <summary>
    /// Waits for a process that is expected to stop by itself (a refused start, say), and for its output.
    /// </summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGKILL, its children with it: no shutdown, no acks, nothing flushed — a crash.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops a service: it drains and deregisters; SIGKILL if it has not exited in time.
    /// </summary>
    public async Task StopAsync(TimeSpan patience)
    {
        if (process.HasExited) return;
        using (var term = Process.Start(
            "kill",
            ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
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

    /// <summary>Resident memory and CPU time so far, from /proc.</summary>
    public ProcessSample Sample() => ProcessSample.Of(process.Id);

    public string Tail(int lines = 40)
        => File.Exists(LogPath) ? string.Join('\n', File.ReadLines(LogPath).TakeLast(lines)) : "";

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
        // Output can still arrive while the instance is disposed.
        lock (log) if (log.BaseStream.CanWrite) log.WriteLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
