using Workq.Control.Stats;

namespace Workq.Control.Apis;

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
