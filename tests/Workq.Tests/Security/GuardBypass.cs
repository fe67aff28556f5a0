using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Npgsql;
using Workq.Shared.Scripting;

namespace Workq.Tests.Security;

/// <summary>
/// A Workq whose attacker canvas runs code the API guard never saw: the suite deploys a benign worker per attack
/// through the API, then, before any worker instance has loaded it, puts in its place in <c>worker_assemblies</c> an
/// assembly compiled here without the guard (P/Invoke, sockets, processes, files, unsafe). That is a test-only path:
/// the API only stores what the guard passed. So the OS sandbox alone stands between the code and the machine, while a
/// neighbour canvas emits a steady stream beside it (<see cref="AssertNeighbourUnharmedAsync"/>).
/// </summary>
public sealed class GuardBypass : IAsyncLifetime
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StreamInterval = TimeSpan.FromMilliseconds(50);
    private const string NeighbourWorker = "steady";

    private EmitStream? stream;
    private ServiceProcess supervisor = null!;

    public WorkqCluster Cluster { get; } = new();
    public string Attacker { get; private set; } = "";
    public string AttackerToken { get; private set; } = "";
    public string Neighbour { get; private set; } = "";
    public int SupervisorPid { get; private set; }

    public async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        // No worker instance may load the benign assemblies before they are replaced: the one the cluster started stops
        // first.
        foreach (var worker in Cluster.Workers) await worker.StopAsync(TimeSpan.FromSeconds(20));
        (Neighbour, var neighbourToken) = await Cluster.CreateCanvasAsync("neighbour");
        (Attacker, AttackerToken) = await Cluster.CreateCanvasAsync("attacker");
        await Cluster.DeployAsync(Neighbour, NeighbourWorker, "return Meta.Id;", concurrency: 4, token: neighbourToken);
        foreach (var (name, code) in GuardBypassAttacks.All)
        {
            await Cluster.DeployAsync(Attacker, name, "return 0;", token: AttackerToken);
            await ReplaceAssemblyAsync(name, Compile(GuardBypassAttacks.Prelude + code));
        }
        // Time enough for a runner that thrashes at its memory limit (on two busy cores) to meet the cgroup's OOM
        // killer before the watchdog.
        supervisor = await Cluster.StartWorkerAsync(
            new Dictionary<string, string> { ["WORKQ_HANDLER_TIMEOUT_SECONDS"] = "15" });
        SupervisorPid = supervisor.Id;
        stream = new EmitStream(
            Cluster,
            Neighbour,
            NeighbourWorker,
            neighbourToken,
            StreamInterval,
            n => $$"""{"n":{{n}}}""");
        await Cluster.EventuallyAsync(
            () => Cluster.GetWorkerAsync(Neighbour, NeighbourWorker),
            w => w.Stats.Processed > 10,
            Patience,
            "the neighbour's stream to flow");
    }

    private async Task ReplaceAssemblyAsync(string worker, byte[] assembly)
    {
        var connection = new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin) { Database = Cluster.Database }
            .ConnectionString;
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var update = new NpgsqlCommand(
            "update worker_assemblies set assembly = @assembly where canvas = @canvas and name = @name",
            db);
        update.Parameters.AddWithValue("assembly", assembly);
        update.Parameters.AddWithValue("canvas", Attacker);
        update.Parameters.AddWithValue("name", worker);
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
    }

    /// <summary>
    /// Compiles a handler script as ScriptCompiler does (a script over <see cref="HandlerGlobals"/>), but with no guard
    /// and more references.
    /// </summary>
    private static byte[] Compile(string code)
    {
        string[] assemblies =
        [
            "System.Private.CoreLib", "System.Runtime", "System.Collections", "System.Linq", "System.Console",
            "System.Text.Json", "System.Memory", "System.Threading", "System.Net.Primitives", "System.Net.Sockets",
            "System.Net.NameResolution", "System.Net.Http", "System.Diagnostics.Process",
            "System.ComponentModel.Primitives", "System.Runtime.InteropServices", "System.Security.Cryptography",
        ];
        var options = ScriptOptions.Default
            .WithReferences(assemblies.Select(name => MetadataReference.CreateFromFile(Assembly.Load(name).Location))
                .Append(MetadataReference.CreateFromFile(typeof(HandlerGlobals).Assembly.Location)))
            .WithImports(
                "System",
                "System.Collections.Generic",
                "System.IO",
                "System.Linq",
                "System.Net",
                "System.Net.Sockets",
                "System.Text",
                "System.Threading",
                "System.Threading.Tasks",
                "System.Runtime.InteropServices")
            .WithAllowUnsafe(true)
            .WithOptimizationLevel(OptimizationLevel.Release);
        var compilation = CSharpScript.Create<object>(code, options, typeof(HandlerGlobals)).GetCompilation();
        using var pe = new MemoryStream();
        var emitted = compilation.Emit(pe);
        Assert.True(
            emitted.Success,
            string.Join('\n', emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return pe.ToArray();
    }

    /// <summary>Runs one event through an attack and returns its trace.</summary>
    public async Task<JsonNode> AttackAsync(string worker, JsonObject? arguments = null)
    {
        var id = await Cluster.EmitAsync(Attacker, worker, (arguments ?? []).ToJsonString(), AttackerToken);
        return await Cluster.TraceOfAsync(Attacker, worker, id, Patience);
    }

    /// <summary>
    /// The worker service is the same process, and every neighbour event accepted so far ran exactly once: all
    /// processed, none failed, no more runs than events, and its runner was never restarted (a restart is what would
    /// run one twice).
    /// </summary>
    public async Task AssertNeighbourUnharmedAsync()
    {
        Assert.False(supervisor.HasExited, "the worker service exited");
        Assert.Equal(SupervisorPid, Cluster.Workers.Single(w => !w.HasExited).Id);
        Assert.Equal(0, stream!.Errors);
        var accepted = stream.Count;
        var worker = await Cluster.EventuallyAsync(
            () => Cluster.GetWorkerDetailAsync(Neighbour, NeighbourWorker),
            w => w.Stats.Processed >= accepted,
            Patience,
            $"the neighbour's {accepted} accepted events to run");
        Assert.True(
            worker.Stats.Processed <= stream.Count,
            "the neighbour's worker ran more events than the neighbour emitted");
        Assert.Equal(0, worker.Stats.Failed);
        Assert.Equal(0, worker.Runner!.Crashes);
        Assert.Equal(0, worker.Runner.Restarts);
        foreach (var trace in await Cluster.GetTracesAsync(Neighbour, NeighbourWorker))
            Assert.True(
                stream.Accepted(trace.EventId),
                $"a neighbour trace is not one of its events: {trace}");
    }

    public async Task DisposeAsync()
    {
        if (stream is not null) await stream.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
