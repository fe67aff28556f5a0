using Workq.Tests.Reliability;

namespace Workq.Tests.Cluster;

/// <summary>
/// One broker fault under a steady emit load, and the account of it: every event with a 202 must reach the handler
/// (which reports to a sink) and none may be lost; during the fault an emit is answered 202 or 503 with Retry-After,
/// nothing else; the services recover without a restart of their own. Writes a row of .run/cluster.md.
/// </summary>
public static class BrokerFaults
{
    /// <summary>
    /// The load: 200 single emits a second on eight streams. Two cores sustain about 1,100 a second on the cluster
    /// (BENCHMARKS.md, "RabbitMQ cluster"), each run here also calls the sink, and ./test.sh runs these tests beside
    /// the shared ones: this leaves the headroom a fault's recovery needs, with thousands of events under way in every
    /// fault.
    /// </summary>
    public const int EmitsPerSecond = 200;
    private const int Streams = 8;

    /// <summary>
    /// A run waiting longer than this is a run the fault delayed: until the last of them, the fault is not over.
    /// </summary>
    private static readonly TimeSpan Disrupted = TimeSpan.FromSeconds(1);

    public static readonly FaultReport Report = new(
        "cluster.md",
        "scenario",
        "accepted (202)",
        "processed",
        "duplicated",
        "dead-lettered",
        "lost",
        "503s answered",
        "longest queue wait",
        "recovered in",
        "notes");

    private const string RecordCode = """
        using (var r = await Http.PostAsync("{0}", new StringContent(Meta.Id.ToString()), CancellationToken)) {{ }}
        return null;
        """;

    public static async Task<ReliabilityRow> RunAsync(
        WorkqCluster workq,
        string scenario,
        Func<WorkqCluster, Task<FaultNotes>> fault,
        Func<Task> waitHealed,
        Action<string> output)
    {
        await using var sink = await CallbackSink.StartAsync();
        var (canvas, token) = await workq.CreateCanvasAsync("fault");
        await workq.DeployAsync(canvas, "f", string.Format(RecordCode, sink.Url), concurrency: 20, token: token);
        var instances = workq.Workers.Count(w => !w.HasExited);
        await workq.EventuallyAsync(
            () => workq.WorkerAsync(canvas, "f"),
            w => w["stats"]!["consumers"]!.GetValue<long>() == instances,
            TimeSpan.FromSeconds(60),
            $"{instances} consumers");

        var load = new EmitStream(
            workq,
            canvas,
            "f",
            token,
            TimeSpan.FromSeconds(Streams / (double)EmitsPerSecond),
            n => $$"""{"n":{{n}}}""",
            Streams);
        long started, ended;
        int acceptedDuringFault;
        FaultNotes notes;
        try
        {
            await workq.EventuallyAsync(
                () => Task.FromResult(load.Count),
                c => c >= EmitsPerSecond * 5,
                TimeSpan.FromSeconds(60),
                "five seconds of load");
            var before = load.Count;
            started = Stopwatch.GetTimestamp();
            notes = await fault(workq);
            ended = Stopwatch.GetTimestamp();
            acceptedDuringFault = load.Count - before;
            await waitHealed();
            // The services recover by themselves: emits are accepted again, five seconds' worth after the heal.
            var healed = load.Count;
            await workq.EventuallyAsync(
                () => Task.FromResult(load.Count),
                c => c >= healed + EmitsPerSecond * 5,
                TimeSpan.FromSeconds(120),
                "emits accepted after the fault");
        }
        finally
        {
            await load.DisposeAsync();
        }

        Assert.Empty(load.Failures);
        var accepted = load.AcceptedAt;
        // Every accepted event ends processed or dead-lettered (a run may fail under the fault); the worker's stats are
        // what a time-out prints, to tell a stuck queue from a slow one.
        await workq.EventuallyAsync(
            async () => (
                Missing: accepted.Keys.Count(id => !sink.FirstSeen.ContainsKey(id.ToString())),
                Worker: await workq.GetWorkerAsync(canvas, "f")),
            seen => seen.Missing == seen.Worker.Stats.DeadLettered,
            TimeSpan.FromMinutes(3),
            "every accepted event processed or dead-lettered");
        var deadLettered = (await workq.JsonAsync(
            HttpMethod.Get,
            workq.ControlUrl($"/v1/canvases/{canvas}/workers/f/dead-letters"),
            token))!.AsArray().Count;
        Assert.All(workq.Workers.Append(workq.Control).Append(workq.Emitter).Append(workq.Dispatcher),
            service => Assert.False(service.HasExited, $"{service.Name} exited: services must recover by themselves"));

        // Queue wait: from the emit's 202 to the run reaching the sink (a run may beat the 202 back: then 0).
        var waits = accepted.Select(a => (Arrived: sink.FirstSeen[a.Key.ToString()], Wait: Math.Max(
            0,
            sink.FirstSeen[a.Key.ToString()] - a.Value))).ToList();
        var afterStart = waits.Where(w => w.Arrived >= started).ToList();
        var longest = afterStart.Count == 0 ? 0 : afterStart.Max(w => w.Wait);
        var lastDisrupted = afterStart.Where(w => w.Wait > Disrupted.TotalSeconds * Stopwatch.Frequency)
            .Select(w => w.Arrived)
            .Concat(load.Unavailable.Where(u => u >= started))
            .DefaultIfEmpty(started)
            .Max();
        var calls = sink.Calls.Select(Guid.Parse).ToList();
        var distinct = calls.ToHashSet();
        var lost = accepted.Keys.Count(id => !distinct.Contains(id)) - deadLettered;
        var row = new ReliabilityRow(
            scenario,
            accepted.Count,
            distinct.Count(accepted.ContainsKey),
            calls.Count - distinct.Count,
            deadLettered,
            lost,
            $"{notes.Text}; {acceptedDuringFault} accepted during the fault ({Seconds(ended - started)})");
        output(Report.Add(
            row.Scenario,
            $"{row.Accepted}",
            $"{row.Processed}",
            $"{row.Duplicated}",
            $"{row.DeadLettered}",
            $"{row.Lost}",
            $"{load.Unavailable.Count}",
            Seconds(longest),
            Seconds(lastDisrupted - started),
            row.Notes));
        return row;
    }

    /// <summary>Each worker queue's leader (its node name), from the first node whose management API answers.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> WorkerQueueLeadersAsync(
        Testing.RabbitNodes nodes,
        string virtualHost)
    {
        HttpRequestException? last = null;
        foreach (var node in nodes.Nodes)
        {
            try
            {
                var queues = (await nodes.GetAsync(
                    node,
                    $"api/queues/{Uri.EscapeDataString(virtualHost)}?columns=name,leader,node")).AsArray();
                return queues.Where(
                    q => q!["name"]!.GetValue<string>().StartsWith("workq.worker.", StringComparison.Ordinal))
                    .ToDictionary(
                        q => q!["name"]!.GetValue<string>(),
                        q => (q!["leader"] ?? q["node"])!.GetValue<string>());
            }
            catch (HttpRequestException e)
            {
                last = e;
            }
        }
        throw new InvalidOperationException("No node's management API answered.", last);
    }

    /// <summary>
    /// The node each of a service's AMQP connections is on, by the name the service gives its connection.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ConnectionNodesAsync(
        Testing.RabbitNodes nodes,
        Testing.RabbitNode via,
        ServiceProcess service)
    {
        var connections = (await nodes.GetAsync(via, "api/connections?columns=node,client_properties.connection_name"))
            .AsArray();
        return connections
            .Where(c => c!["client_properties"]?["connection_name"]?.GetValue<string>() is { } name
                && name.EndsWith($"-{service.Id}", StringComparison.Ordinal))
            .Select(c => c!["node"]!.GetValue<string>()).ToList();
    }

    /// <summary>
    /// A management API read that may time out while the cluster heals: null then, so a poll tries again.
    /// </summary>
    public static async Task<T?> WhileHealingAsync<T>(Func<Task<T>> read) where T : class
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public static string Seconds(long stopwatchTicks) =>
        stopwatchTicks < Stopwatch.Frequency
            ? $"{stopwatchTicks * 1000 / Stopwatch.Frequency} ms"
            : $"{stopwatchTicks / (double)Stopwatch.Frequency:0.0} s";
}
