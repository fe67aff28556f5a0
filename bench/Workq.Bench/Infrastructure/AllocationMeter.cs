using System.Net.Http.Headers;

namespace Workq.Bench.Infrastructure;

/// <summary>
/// Bytes each service allocated between two moments, from the runtime's own counter on its <c>/metrics</c>
/// (<c>dotnet.gc.heap.total_allocated</c>, admin token), so a scenario can say how much each allocates per event. A
/// service whose counter cannot be read is left out, not counted as zero.
/// </summary>
public sealed class AllocationMeter(BenchCluster cluster, HttpClient http)
{
    private const string Counter = "dotnet_gc_heap_total_allocated";
    private Dictionary<string, double> start = [];

    public async Task StartAsync(CancellationToken cancellationToken) => start = await ReadAsync(cancellationToken);

    /// <summary>Bytes per event by service, since <see cref="StartAsync"/>.</summary>
    public async Task<IReadOnlyList<AllocationShare>> PerEventAsync(long events, CancellationToken cancellationToken)
    {
        var end = await ReadAsync(cancellationToken);
        return [.. end.Where(e => start.ContainsKey(e.Key))
            .Select(e => new AllocationShare(e.Key, Math.Round((e.Value - start[e.Key]) / events)))];
    }

    private async Task<Dictionary<string, double>> ReadAsync(CancellationToken cancellationToken)
    {
        var bytes = new Dictionary<string, double>();
        foreach (var service in cluster.Services)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(service.Url, "metrics"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cluster.AdminToken);
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) continue;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            // "name{labels} value [timestamp]": the value is the first field after the labels.
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(Counter, StringComparison.Ordinal));
            var fields = line?[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is [var first, ..]
                && double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                bytes[service.Name.ToLowerInvariant()] = value;
        }
        return bytes;
    }
}
