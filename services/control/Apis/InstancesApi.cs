using Workq.Control.Stats;

namespace Workq.Control.Apis;

public sealed record ConsumerView(string Canvas, string Worker, int Prefetch, int InFlight, string State);

/// <summary>
/// A live worker instance. <c>Canvases</c> is its WORKQ_CANVASES filter (empty: every canvas); <c>Runners</c> its
/// canvases' runner processes, null where handler code runs in the instance (<c>WORKQ_ISOLATION=none</c>);
/// <c>Sandbox</c> the OS sandbox they start in, <c>namespaces+seccomp</c> or <c>off</c> (null from an instance older
/// than it).
/// </summary>
public sealed record InstanceView(
    Guid Id,
    string Host,
    int Pid,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    IReadOnlyList<string> Canvases,
    IReadOnlyList<ConsumerView> Consumers,
    string Isolation,
    IReadOnlyList<Shared.ControlPlane.RunnerDescription>? Runners,
    string? Sandbox);

/// <summary>The instances view (admin): what each live worker instance consumes, from their load reports.</summary>
public static class InstancesApi
{
    public static RouteGroupBuilder MapInstancesApi(this RouteGroupBuilder admin)
    {
        admin.MapGet("/instances", (InstanceLoads loads) =>
            TypedResults.Ok(loads.Instances()
                .OrderBy(i => i.Description.Host, StringComparer.Ordinal).ThenBy(i => i.Description
                    .StartedAt).ThenBy(i => i.Instance)
                .Select(i => new InstanceView(i.Instance, i.Description.Host, i.Description.Pid, i.Description
                    .StartedAt, i.LastSeen, i.Description.Canvases,
                    i.Description.Consumers.Select(c => new ConsumerView(
                        c.Canvas,
                        c.Worker,
                        c.Prefetch,
                        c.InFlight,
                        c.Draining ? "draining" : "consuming")).ToList(),
                    i.Description.Isolation, i.Description.Isolation == "canvas"
                        ? i.Description.Runners ?? []
                        : null, i.Description.Sandbox))));
        return admin;
    }
}
