using System.Collections.Concurrent;
using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Control.Stats;

/// <summary>
/// The last load report of every worker instance (<see cref="WorkerInstanceLoad"/>): a worker's load is the sum over
/// the instances heard from within <see cref="AliveFor"/>, so a killed instance stops counting two seconds later.
/// </summary>
public sealed class InstanceLoads
{
    public static readonly TimeSpan AliveFor = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<Guid, Report> reports = new();

    public void Record(WorkerInstanceLoad load)
    {
        var now = Environment.TickCount64;
        reports[load.Instance] = new Report(
            now,
            DateTimeOffset.UtcNow,
            load.Workers.ToDictionary(w => (w.Canvas, w.Worker), w => new RunningLoad(w.InFlight, w.Draining)),
            load.Description);
        foreach (var (instance, report) in reports)
            if (!report.IsAlive(now)) reports.TryRemove(new KeyValuePair<Guid, Report>(instance, report));
    }

    public RunningLoad Of(string canvas, string worker)
    {
        var now = Environment.TickCount64;
        long inFlight = 0;
        var draining = 0;
        foreach (var report in reports.Values)
        {
            if (!report.IsAlive(now) || !report.Workers.TryGetValue((canvas, worker), out var load)) continue;
            inFlight += load.InFlight;
            draining += load.Draining;
        }
        return new RunningLoad(inFlight, draining);
    }

    /// <summary>
    /// The canvas's runners on the live instances, or null when none runs handler code in runners. Their sandbox is the
    /// weakest in force on the instances that consume the canvas (on every isolated instance when none does yet):
    /// <c>off</c> if any runs without it, since the canvas's events may land there.
    /// </summary>
    public Apis.RunnerView? RunnerOf(string canvas)
    {
        var now = Environment.TickCount64;
        RunnerDescription? latest = null;
        var (isolated, warm, starting, restarts, crashes) = (false, false, false, 0, 0);
        var (sandboxes, consuming) = (new HashSet<string?>(), new HashSet<string?>());
        foreach (var report in reports.Values)
        {
            if (!report.IsAlive(now) || report.Description is not { Isolation: "canvas" } description) continue;
            isolated = true;
            sandboxes.Add(description.Sandbox);
            if (description.Consumers.Any(c => c.Canvas == canvas)) consuming.Add(description.Sandbox);
            foreach (var runner in description.Runners ?? [])
            {
                if (runner.Canvas != canvas) continue;
                warm |= runner.State == "warm";
                starting |= runner.State == "starting";
                restarts += runner.Restarts;
                crashes += runner.Crashes;
                if (runner.LastCrashAt > (latest?.LastCrashAt ?? DateTimeOffset.MinValue)) latest = runner;
            }
        }
        if (!isolated) return null;
        var inForce = consuming.Count > 0 ? consuming : sandboxes;
        var sandbox = inForce.Contains("off") ? "off" : inForce.Contains(null) ? null : inForce.First();
        return new Apis.RunnerView(
            warm ? "warm" : starting ? "starting" : "stopped",
            restarts,
            crashes,
            latest?.LastCrash,
            latest?.LastCrashAt,
            sandbox);
    }

    /// <summary>The live instances that describe themselves, with when each was last heard from.</summary>
    public List<(Guid Instance, DateTimeOffset LastSeen, InstanceDescription Description)> Instances()
    {
        var now = Environment.TickCount64;
        return reports.Where(r => r.Value.IsAlive(now) && r.Value.Description is not null)
            .Select(r => (r.Key, r.Value.LastSeen, r.Value.Description!)).ToList();
    }

    private sealed record Report(
        long HeardAt,
        DateTimeOffset LastSeen,
        Dictionary<(string Canvas, string Worker), RunningLoad> Workers,
        InstanceDescription? Description)
    {
        public bool IsAlive(long now) => now - HeardAt < AliveFor.TotalMilliseconds;
    }
}
