using Workq.Client;

namespace Workq.Tests.Client;

/// <summary>Clients of a test cluster's services that retry fast (<see cref="FastRetry"/>).</summary>
public static class FastClients
{
    public static WorkqClient Emitter(WorkqCluster cluster, string token, HttpMessageHandler? handler = null) =>
        new(cluster.Emitter.Url, token, handler is null ? null : new HttpClient(handler), FastRetry.Options);

    public static WorkqControlClient Control(WorkqCluster cluster, string? token = null) =>
        new(cluster.Control.Url, token ?? cluster.AdminToken, retry: FastRetry.Options);
}
