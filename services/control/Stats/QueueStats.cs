using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;

namespace Workq.Control.Stats;

public readonly record struct QueueCounts(long Queued, long InFlight, long Consumers);

/// <summary>
/// Queue depth, in-flight and consumer counts straight from the broker: one management-API call for
/// every queue at once, cached for a second, so a list of a thousand workers costs one request.
/// </summary>
public sealed class QueueStats(WorkqOptions options, Topology topology, ILogger<QueueStats> logger) : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly HttpClient http = CreateClient(options.RabbitMqManagementUrl);
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly string vhost = Uri.EscapeDataString(VirtualHost(options.RabbitMqUrl));
    private (DateTimeOffset At, Dictionary<string, QueueCounts>? Queues) cache = (DateTimeOffset.MinValue, null);

    public async Task<QueueCounts> GetAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        var queues = await AllAsync(cancellationToken);
        if (queues is not null) return queues.GetValueOrDefault(Topology.WorkerQueue(canvas, worker));
        // No management API: the ready count still comes from the broker itself.
        return new QueueCounts(await topology.CountReadyAsync(canvas, worker, cancellationToken) ?? 0, 0, 0);
    }

    /// <summary>The counts of every queue as last read, without asking the broker (null when never read or unavailable).</summary>
    public IReadOnlyDictionary<string, QueueCounts>? Cached => cache.Queues;

    public async Task<IReadOnlyDictionary<string, QueueCounts>?> RefreshAsync(CancellationToken cancellationToken) => await AllAsync(cancellationToken);

    private async Task<Dictionary<string, QueueCounts>?> AllAsync(CancellationToken cancellationToken)
    {
        if (DateTimeOffset.UtcNow - cache.At < CacheFor) return cache.Queues;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (DateTimeOffset.UtcNow - cache.At < CacheFor) return cache.Queues;
            Dictionary<string, QueueCounts>? queues = null;
            try
            {
                using var response = await http.GetAsync($"api/queues/{vhost}?columns=name,messages_ready,messages_unacknowledged,consumers", cancellationToken);
                response.EnsureSuccessStatusCode();
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
                queues = [];
                foreach (var queue in document.RootElement.EnumerateArray())
                {
                    queues[queue.GetProperty("name").GetString()!] = new QueueCounts(
                        Number(queue, "messages_ready"), Number(queue, "messages_unacknowledged"), Number(queue, "consumers"));
                }
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("RabbitMQ management API unavailable ({Reason}); falling back to queue declarations", e.Message);
            }
            cache = (DateTimeOffset.UtcNow, queues);
            return queues;
        }
        finally
        {
            gate.Release();
        }
    }

    private static long Number(JsonElement queue, string name) =>
        queue.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    private static string VirtualHost(string amqpUrl)
    {
        var path = new Uri(amqpUrl).AbsolutePath.TrimStart('/');
        return path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
    }

    private static HttpClient CreateClient(string managementUrl)
    {
        var uri = new Uri(managementUrl);
        var client = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), Timeout = TimeSpan.FromSeconds(3) };
        if (uri.UserInfo.Length > 0)
        {
            var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(uri.UserInfo)));
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", credentials);
        }
        return client;
    }

    public void Dispose()
    {
        http.Dispose();
        gate.Dispose();
    }
}
