using Workq.Client;

namespace Workq.Tests.Security;

/// <summary>
/// A Workq of its own with two tenants: a victim canvas whose worker runs a steady stream of events that
/// carry a secret, and an attacker canvas for the tests to misbehave on. After each attack the test asks
/// <see cref="AssertVictimUnharmedAsync"/>: every victim event accepted so far ran, nothing else ran there,
/// and the secret never shows up in anything the attacker can read.
/// </summary>
public sealed class HostileTenant : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StreamInterval = TimeSpan.FromMilliseconds(50);

    private EmitStream? stream;

    public WorkqCluster Cluster { get; } = new();
    public string Secret { get; } = "victim-secret-" + Guid.NewGuid().ToString("N");
    public string Victim { get; private set; } = "";
    public string VictimToken { get; private set; } = "";
    public string Attacker { get; private set; } = "";
    public string AttackerToken { get; private set; } = "";
    public const string VictimWorker = "steady";

    public async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        (Victim, VictimToken) = await Cluster.CreateCanvasAsync("victim");
        (Attacker, AttackerToken) = await Cluster.CreateCanvasAsync("attacker");
        await Cluster.DeployAsync(Victim, VictimWorker, """
            var secret = Event!["secret"]!.GetValue<string>();
            Log($"handled {secret}");
            return new { secret, n = Event["n"]!.GetValue<int>() };
            """, concurrency: 4, token: VictimToken);
        stream = new EmitStream(
            Cluster,
            Victim,
            VictimWorker,
            VictimToken,
            StreamInterval,
            n => $$"""{"secret":"{{Secret}}","n":{{n}}}""");
        // Every attack runs beside a stream that is already flowing.
        await Cluster.EventuallyAsync(
            () => Task.FromResult(stream.Count),
            accepted => accepted > 0,
            Patience,
            "the victim's stream to start");
    }

    /// <summary>
    /// Every victim event accepted until now is processed, none failed, no more ran than were accepted, each
    /// kept trace is one of ours with our secret, and the attacker's traces and unhandled list never hold it.
    /// </summary>
    public async Task AssertVictimUnharmedAsync()
    {
        Assert.Equal(0, stream!.Errors);
        var accepted = stream.Count;
        Assert.True(accepted > 0, "the victim's stream has not started");
        var worker = await Cluster.EventuallyAsync(
            () => Cluster.GetWorkerAsync(Victim, VictimWorker),
            w => w.Stats.Processed >= accepted,
            Patience,
            $"the victim's {accepted} accepted events to be processed");
        Assert.Equal(0, worker.Stats.Failed);
        Assert.Equal(0, worker.Stats.DeadLettered);
        Assert.Equal("running", worker.State);

        // Nothing forged: every run on the victim's worker is an event the victim emitted, with its own secret.
        Assert.True(
            worker.Stats.Processed <= stream.Count,
            "the victim's worker ran more events than the victim emitted");
        foreach (var trace in await Cluster.GetTracesAsync(Victim, VictimWorker))
        {
            Assert.True(
                stream.Accepted(trace.EventId),
                $"a trace on the victim's worker is not one of its events: {trace}");
            Assert.Equal("completed", trace.Status);
            Assert.Equal(Secret, trace.Result.As<SecretResult>().Secret);
        }

        foreach (var attackerWorker in (await Cluster.JsonAsync(
            HttpMethod.Get,
            Cluster.ControlUrl($"/v1/canvases/{Attacker}/workers"),
            AttackerToken)).As<List<Worker>>())
        {
            var traces = await Cluster.TracesAsync(Attacker, attackerWorker.Name);
            Assert.DoesNotContain(Secret, traces.ToJsonString(), StringComparison.Ordinal);
        }
        var unhandled = await Cluster.JsonAsync(
            HttpMethod.Get,
            Cluster.ControlUrl($"/v1/canvases/{Attacker}/unhandled"),
            AttackerToken);
        Assert.DoesNotContain(Secret, unhandled!.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>Deploys attacker code, runs one event through it and returns its trace.</summary>
    public async Task<JsonNode> RunAttackAsync(string worker, string code, string eventJson = "null")
    {
        await Cluster.DeployAsync(Attacker, worker, code, token: AttackerToken);
        var id = await Cluster.EmitAsync(Attacker, worker, eventJson, AttackerToken);
        return await Cluster.TraceOfAsync(Attacker, worker, id, Patience);
    }

    public async Task DisposeAsync()
    {
        if (stream is not null) await stream.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
