using System.Globalization;
using Workq.Client;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Isolation;

/// <summary>
/// A Workq of its own, isolation on (the default), with two canvases: the neighbour, whose worker runs a steady
/// stream and reports every run (its id and queue wait) to a sink, and the noisy canvas that the tests attack from.
/// After each attack <see cref="AssertNeighbourUnharmedAsync"/> checks the neighbour's side of issue 13's promise.
/// </summary>
public sealed class NoisyNeighbours : IAsyncLifetime
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StreamInterval = TimeSpan.FromMilliseconds(50);
    public const string NeighbourWorker = "steady";

    private EmitStream? stream;
    private ServiceProcess supervisor = null!;
    private int supervisorPid;

    public WorkqCluster Cluster { get; } = new();
    public CallbackSink Sink { get; private set; } = null!;
    public string Neighbour { get; private set; } = "";
    public string NeighbourToken { get; private set; } = "";
    public string Noisy { get; private set; } = "";
    public string NoisyToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        await Cluster.UseOneWorkerInstanceAsync();
        supervisor = Cluster.Workers.Single(w => !w.HasExited);
        supervisorPid = supervisor.Id;
        Sink = await CallbackSink.StartAsync();
        (Neighbour, NeighbourToken) = await Cluster.CreateCanvasAsync("neighbour");
        (Noisy, NoisyToken) = await Cluster.CreateCanvasAsync("noisy");
        await Cluster.DeployAsync(Neighbour, NeighbourWorker, $$"""
            var waited = (DateTimeOffset.UtcNow - Meta.EnqueuedAt).TotalMilliseconds;
            var report = new StringContent($"{Meta.Id} {waited:0.0}");
            using (var sent = await Http.PostAsync("{{Sink.Url}}", report, CancellationToken)) { }
            return waited;
            """, concurrency: 4, token: NeighbourToken);
        stream = new EmitStream(
            Cluster,
            Neighbour,
            NeighbourWorker,
            NeighbourToken,
            StreamInterval,
            n => $$"""{"n":{{n}}}""");
        await Cluster.EventuallyAsync(
            () => Task.FromResult(Sink.Calls.Count),
            calls => calls > 10,
            Patience,
            "the neighbour's stream to flow");
    }

    /// <summary>Where the neighbour's reports stood when an attack began.</summary>
    public int Mark() => Sink.Calls.Count;

    /// <summary>
    /// Every neighbour event accepted so far ran exactly once, its p99 queue wait since <paramref name="since"/> is
    /// under a second (printed), the emitter never refused it, and the worker service (the supervisor) is the same
    /// process throughout.
    /// </summary>
    public async Task AssertNeighbourUnharmedAsync(int since, string attack, ITestOutputHelper output)
    {
        // The neighbour's share is judged over at least a second of its stream.
        await Cluster.EventuallyAsync(
            () => Task.FromResult(Sink.Calls.Count),
            calls => calls >= since + 20,
            Patience,
            "20 neighbour events after the attack began");
        var expected = stream!.AcceptedSoFar();
        await Cluster.EventuallyAsync(() => Task.FromResult(Reports().Select(r => r.Id).ToHashSet()),
            seen => expected.All(seen.Contains), Patience, $"the neighbour's {expected.Count} accepted events to run");
        var reports = Reports();
        var twice = reports.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(
            twice.Count == 0,
            $"{twice.Count} neighbour events ran more than once during '{attack}', e.g. {twice.FirstOrDefault()}");
        // An event may run before the stream has read its 202, so an id not yet recorded gets a moment to arrive.
        var unrecorded = reports.Select(r => r.Id).Where(id => !stream.Accepted(id)).ToList();
        await Cluster.EventuallyAsync(
            () => Task.FromResult(unrecorded.Count(id => !stream.Accepted(id))),
            count => count == 0,
            TimeSpan.FromSeconds(10),
            "no event run by the neighbour's worker that the neighbour never emitted");

        var waits = reports.Skip(since).Select(r => r.WaitMs).Order().ToList();
        Assert.True(waits.Count >= 20, $"only {waits.Count} neighbour events ran during '{attack}'");
        var p99 = waits[(int)Math.Ceiling(0.99 * waits.Count) - 1];
        output.WriteLine($"noisy neighbour | {attack} | neighbour events {waits.Count} "
            + $"| p50 {waits[waits.Count / 2]:0.0} ms | p99 {p99:0.0} ms | max {waits[^1]:0.0} ms");
        Assert.True(
            p99 < 1_000,
            $"the neighbour's p99 queue wait was {p99:0.0} ms during '{attack}' (max {waits[^1]:0.0} ms)");
        Assert.Equal(0, stream.Errors);

        Assert.False(supervisor.HasExited, $"the worker service exited during '{attack}'");
        Assert.Equal(supervisorPid, supervisor.Id);
        var neighbour = await Cluster.GetWorkerDetailAsync(Neighbour, NeighbourWorker);
        Assert.Equal(0, neighbour.Stats.Failed);
        Assert.Equal(0, neighbour.Runner!.Crashes);
        Assert.Equal(0, neighbour.Runner.Restarts);
    }

    private List<(Guid Id, double WaitMs)> Reports() =>
        Sink.Calls.Select(call => call.Split(' '))
            .Select(parts => (Guid.Parse(parts[0]), double.Parse(parts[1], CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>Deploys noisy code, emits <paramref name="events"/> events to it and returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> AttackAsync(string worker, string code, int events = 1, int concurrency = 1)
    {
        await Cluster.DeployAsync(Noisy, worker, code, concurrency: concurrency, token: NoisyToken);
        var ids = new List<Guid>();
        for (var i = 0; i < events; i++) ids.Add(await Cluster.EmitAsync(Noisy, worker, "null", NoisyToken));
        return ids;
    }

    /// <summary>The trace of one noisy event, once it has one.</summary>
    public async Task<Trace> TraceAsync(string worker, Guid id) =>
        (await Cluster.TraceOfAsync(Noisy, worker, id, Patience)).As<Trace>();

    public async Task DisposeAsync()
    {
        if (stream is not null) await stream.DisposeAsync();
        await Cluster.DisposeAsync();
        if (Sink is not null) await Sink.DisposeAsync();
    }
}
