using Microsoft.Extensions.Logging;
using Workq.Shared.Storage;

namespace Workq.Shared.Auth;

/// <summary>
/// Which canvases exist, which token opens each and which incarnation it is, kept in memory so that authorizing an emit
/// costs no database round trip. Refreshed on control-plane events and periodically; a name it
/// does not know is answered from a reload at most five times a second, so unknown tokens or
/// canvases, however many, cost the database no more than that.
/// </summary>
public sealed class CanvasDirectory(CanvasStore canvases, ILogger<CanvasDirectory> logger)
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReloadOnMissEvery = TimeSpan.FromMilliseconds(200);
    private readonly SemaphoreSlim reloading = new(1, 1);
    private volatile Snapshot current = new(
        new Dictionary<string, CanvasEntry>(StringComparer.Ordinal),
        DateTimeOffset.MinValue);

    private sealed record Snapshot(IReadOnlyDictionary<string, CanvasEntry> ByName, DateTimeOffset LoadedAt)
    {
        public readonly Dictionary<string, (string Canvas, long Incarnation)> ByTokenHash =
            ByName.ToDictionary(p => p.Value.TokenHash, p => (p.Key, p.Value.Incarnation), StringComparer.Ordinal);
    }

    /// <summary>The canvas's incarnation, or null when there is no such canvas.</summary>
    public async ValueTask<long?> IncarnationAsync(string canvas, CancellationToken cancellationToken) =>
        (await EntryAsync(canvas, cancellationToken))?.Incarnation;

    /// <summary>The canvas (and the incarnation of it) a token belongs to, or null for an unknown token.</summary>
    public async ValueTask<(string Canvas, long Incarnation)?> CanvasOfTokenAsync(
        string token,
        CancellationToken cancellationToken)
    {
        var hash = Tokens.Hash(token);
        var snapshot = await FreshAsync(RefreshEvery, cancellationToken);
        if (snapshot.ByTokenHash.TryGetValue(hash, out var canvas)) return canvas;
        // Perhaps a canvas created a moment ago elsewhere.
        snapshot = await FreshAsync(ReloadOnMissEvery, cancellationToken);
        return snapshot.ByTokenHash.TryGetValue(hash, out canvas) ? canvas : null;
    }

    private async ValueTask<CanvasEntry?> EntryAsync(string canvas, CancellationToken cancellationToken)
    {
        var snapshot = await FreshAsync(RefreshEvery, cancellationToken);
        if (snapshot.ByName.TryGetValue(canvas, out var entry)) return entry;
        snapshot = await FreshAsync(ReloadOnMissEvery, cancellationToken);
        return snapshot.ByName.GetValueOrDefault(canvas);
    }

    /// <summary>
    /// Forgets everything; the next question reloads. Called when a canvas is created or deleted anywhere.
    /// </summary>
    public void Invalidate() => current = current with { LoadedAt = DateTimeOffset.MinValue };

    /// <summary>
    /// The snapshot, reloaded first if it is older than <paramref name="maxAge"/>; concurrent callers share one reload.
    /// </summary>
    private async ValueTask<Snapshot> FreshAsync(TimeSpan maxAge, CancellationToken cancellationToken)
    {
        if (DateTimeOffset.UtcNow - current.LoadedAt < maxAge) return current;
        await reloading.WaitAsync(cancellationToken);
        try
        {
            return DateTimeOffset.UtcNow - current.LoadedAt < maxAge ? current : await ReloadAsync(cancellationToken);
        }
        finally
        {
            reloading.Release();
        }
    }

    private async Task<Snapshot> ReloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var loaded = new Snapshot(await canvases.TokenHashesAsync(cancellationToken), DateTimeOffset.UtcNow);
            current = loaded;
            return loaded;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException && current.ByName.Count > 0)
        {
            // The database is away: keep authorizing from what we knew, so emits go on, and try again shortly.
            logger.LogWarning(e, "Could not refresh canvases; using the cached list");
            current = current with { LoadedAt = DateTimeOffset.UtcNow - RefreshEvery + ReloadOnMissEvery };
            return current;
        }
    }
}
