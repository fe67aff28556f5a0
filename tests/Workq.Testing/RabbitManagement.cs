using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Workq.Testing;

/// <summary>
/// The broker's own view (management HTTP API) as the servers' administrator: the virtual host each Workq under test or
/// bench gets, and what tests check exists on it.
/// </summary>
public sealed class RabbitManagement : IDisposable
{
    private readonly HttpClient http;
    private readonly string user;

    /// <param name="url">The management API, with an administrator's user and password.</param>
    /// <param name="timeout">Per request; deleting a virtual host with a thousand quorum queues takes the broker
    /// minutes.</param>
    public RabbitManagement(string url, TimeSpan? timeout = null)
    {
        var uri = new Uri(url);
        http = new HttpClient
        {
            BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"),
            Timeout = timeout ?? TimeSpan.FromSeconds(60)
        };
        (user, var password) = LocalServers.Credentials(url);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    /// <summary>
    /// Makes the virtual host and opens it to the services' user (when given), and to the administrator itself:
    /// declaring a queue through the management API takes permissions on its virtual host, administrator or not.
    /// </summary>
    public async Task CreateVirtualHostAsync(
        string vhost,
        string? serviceUser,
        CancellationToken cancellationToken = default)
    {
        using var created = await http.PutAsync(
            $"api/vhosts/{Uri.EscapeDataString(vhost)}",
            JsonContent.Create(new { }),
            cancellationToken);
        if (created.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new InvalidOperationException(
                $"The broker's user {user} may not create virtual hosts: the tests and the bench make theirs as an "
                + "administrator (WORKQ_TEST_RABBITMQ_ADMIN, WORKQ_BENCH_RABBITMQ_ADMIN; scripts/servers.sh writes "
                + "one to .run/servers.env).");
        created.EnsureSuccessStatusCode();
        foreach (var grantee in new[] { user, serviceUser }.OfType<string>().Distinct())
        {
            using var granted = await http.PutAsync(
                $"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(grantee)}",
                JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" }),
                cancellationToken);
            granted.EnsureSuccessStatusCode();
        }
    }

    public async Task DeleteVirtualHostAsync(string vhost, CancellationToken cancellationToken = default)
    {
        using var _ = await http.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}", cancellationToken);
    }

    public async Task<IReadOnlyList<string>> QueuesAsync(string vhost)
        => await NamesAsync($"api/queues/{Uri.EscapeDataString(vhost)}?columns=name");

    public async Task<IReadOnlyList<string>> ExchangesAsync(string vhost)
        => await NamesAsync($"api/exchanges/{Uri.EscapeDataString(vhost)}?columns=name");

    /// <summary>Declares a durable queue with these arguments, as an older Workq or an operator would have.</summary>
    public async Task DeclareQueueAsync(string vhost, string queue, IReadOnlyDictionary<string, object> arguments) =>
        (await http.PutAsync(
            $"api/queues/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(queue)}",
            JsonContent.Create(new { durable = true, arguments }))).EnsureSuccessStatusCode();

    /// <summary>The arguments a queue was declared with.</summary>
    public async Task<JsonObject> QueueArgumentsAsync(string vhost, string queue) =>
        ManagementJson.Parse(await http.GetStringAsync(
            $"api/queues/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(queue)}?columns=arguments"))[
                "arguments"]!.AsObject();

    /// <summary>How many consumers each queue has, by queue name.</summary>
    public async Task<IReadOnlyDictionary<string, int>> ConsumersAsync(
        string vhost,
        CancellationToken cancellationToken = default)
    {
        var array = ManagementJson.Parse(await http.GetStringAsync(
            $"api/queues/{Uri.EscapeDataString(vhost)}?columns=name,consumers",
            cancellationToken)).AsArray();
        return array.ToDictionary(q => q!["name"]!.GetValue<string>(), q => q!["consumers"]?.GetValue<int>() ?? 0);
    }

    /// <summary>
    /// The client-provided names of the connections whose consumers are active on the queues named with this prefix
    /// (single active consumer).
    /// </summary>
    public async Task<IReadOnlySet<string>> ActiveConsumerConnectionsAsync(string vhost, string queuePrefix)
    {
        var consumers = ManagementJson.Parse(
            await http.GetStringAsync($"api/consumers/{Uri.EscapeDataString(vhost)}")).AsArray();
        var connections = ManagementJson.Parse(
            await http.GetStringAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}/connections")).AsArray()
            .ToDictionary(
                c => c!["name"]!.GetValue<string>(),
                c => c!["client_properties"]?["connection_name"]?.GetValue<string>() ?? "");
        // A consumer whose channel is closing has "channel_details": [] (no connection left): it holds nothing.
        return consumers.Where(c => c!["queue"]!["name"]!.GetValue<string>()
            .StartsWith(queuePrefix, StringComparison.Ordinal) && c["active"]?.GetValue<bool>() == true)
            .Select(c => c!["channel_details"] is JsonObject { } channel
                ? channel["connection_name"]?.GetValue<string>()
                : null)
            .OfType<string>()
            .Select(connection => connections.GetValueOrDefault(connection, ""))
            .ToHashSet();
    }

    /// <summary>
    /// Has the broker close every connection of this virtual host whose client-provided name ends so; returns how many.
    /// </summary>
    public async Task<int> CloseConnectionsAsync(string vhost, string nameSuffix)
    {
        var connections = ManagementJson.Parse(
            await http.GetStringAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}/connections")).AsArray()
            .Where(c => c!["client_properties"]?["connection_name"]?.GetValue<string>()?
                .EndsWith(nameSuffix, StringComparison.Ordinal) == true)
            .Select(c => c!["name"]!.GetValue<string>()).ToList();
        foreach (var name in connections) (await http.DeleteAsync($"api/connections/{Uri.EscapeDataString(name)}"))
            .EnsureSuccessStatusCode();
        return connections.Count;
    }

    private async Task<IReadOnlyList<string>> NamesAsync(string path)
    {
        var array = ManagementJson.Parse(await http.GetStringAsync(path)).AsArray();
        return array.Select(q => q!["name"]!.GetValue<string>()).ToList();
    }

    public void Dispose() => http.Dispose();
}
