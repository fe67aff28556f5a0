using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Workq.Shared.Configuration;

namespace Workq.Control.Stats;

/// <summary>
/// The ready count of every queue in one management-API call, for the queue depth metric. Its figures lag (quorum
/// queues report them on their tick, then the management API collects them), which a metric sampled every few seconds
/// can afford; the API's worker stats come from <see cref="LiveQueueCounts"/> instead. With a cluster it asks the node
/// that answered last, and the next one when that one does not (any node's management API sees the whole cluster).
/// </summary>
public sealed class QueueStats(BrokerOptions options, ILogger<QueueStats> logger) : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly HttpClient[] nodes = [.. options.Management.Nodes.Select(CreateClient)];
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly string vhost = Uri.EscapeDataString(VirtualHost(options.Amqp.First));
    private int current;
    private (DateTimeOffset At, Dictionary<string, long>? Queues) cache = (DateTimeOffset.MinValue, null);

    /// <summary>
    /// The ready count of every queue as last read, without asking the broker (null when never read or unavailable).
    /// </summary>
    public IReadOnlyDictionary<string, long>? Cached => cache.Queues;

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (DateTimeOffset.UtcNow - cache.At < CacheFor) return;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (DateTimeOffset.UtcNow - cache.At < CacheFor) return;
            Dictionary<string, long>? queues = null;
            for (var tried = 0; queues is null && tried < nodes.Length; tried++)
            {
                queues = await ReadAsync(nodes[current], cancellationToken);
                if (queues is null) current = (current + 1) % nodes.Length;
            }
            cache = (DateTimeOffset.UtcNow, queues);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Dictionary<string, long>?> ReadAsync(HttpClient node, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await node.GetAsync(
                $"api/queues/{vhost}?columns=name,messages_ready",
                cancellationToken);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            var queues = new Dictionary<string, long>();
            foreach (var queue in document.RootElement.EnumerateArray())
            {
                queues[queue.GetProperty("name").GetString()!] = Number(queue, "messages_ready");
            }
            return queues;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException
            && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(
                "RabbitMQ management API at {Node} unavailable ({Reason}); no queue depth metric until a node answers",
                node.BaseAddress!.Authority,
                e.Message);
            return null;
        }
    }

    private static long Number(JsonElement queue, string name) =>
        queue.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    private static string VirtualHost(Uri amqpUrl)
    {
        var path = amqpUrl.AbsolutePath.TrimStart('/');
        return path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
    }

    private static HttpClient CreateClient(Uri uri)
    {
        var client = new HttpClient
        {
            BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"),
            Timeout = TimeSpan.FromSeconds(3)
        };
        if (uri.UserInfo.Length > 0)
        {
            var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(uri.UserInfo)));
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", credentials);
        }
        return client;
    }

    public void Dispose()
    {
        foreach (var node in nodes) node.Dispose();
        gate.Dispose();
    }
}
