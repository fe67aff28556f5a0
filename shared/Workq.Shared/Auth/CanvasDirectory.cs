using Microsoft.Extensions.Logging;
using Workq.Shared.Storage;

namespace Workq.Shared.Auth;

/// <summary>
/// Which canvases exist and which token opens each, kept in memory so that authorizing an emit
/// costs no database round trip. Refreshed on control-plane events and periodically; a name it
/// does not know is answered from a reload at most five times a second, so unknown tokens or
/// canvases, however many, cost the database no more than that.
/// </summary>
public sealed class CanvasDirectory(CanvasStore canvases, ILogger<CanvasDirectory> logger)
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReloadOnMissEvery = TimeSpan.FromMilliseconds(200);
    private readonly SemaphoreSlim reloading = new(1, 1);
    private volatile Snapshot current = new(new Dictionary<string, string>(StringComparer.Ordinal), DateTimeOffset.MinValue);

    private sealed record Snapshot(IReadOnlyDictionary<string, string> TokenHashByCanvas, DateTimeOffset LoadedAt)
    {
        public readonly Dictionary<string, string> CanvasByTokenHash =
            TokenHashByCanvas.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }

    public async ValueTask<bool> ExistsAsync(string canvas, CancellationToken cancellationToken) =>
        (await TokenHashAsync(canvas, cancellationToken)) is not null;

    /// <summary>The canvas a token belongs to, or null for an unknown token.</summary>
    public async ValueTask<string?> CanvasOfTokenAsync(string token, CancellationToken cancellationToken)
    {
        var hash = Tokens.Hash(token);
        var snapshot = await FreshAsync(RefreshEvery, cancellationToken);
        if (snapshot.CanvasByTokenHash.TryGetValue(hash, out var canvas)) return canvas;
        // Perhaps a canvas created a moment ago elsewhere.
        snapshot = await FreshAsync(ReloadOnMissEvery, cancellationToken);
        return snapshot.CanvasByTokenHash.GetValueOrDefault(hash);
    }

    private async ValueTask<string?> TokenHashAsync(string canvas, CancellationToken cancellationToken)
    {
        var snapshot = await FreshAsync(RefreshEvery, cancellationToken);
        if (snapshot.TokenHashByCanvas.TryGetValue(canvas, out var hash)) return hash;
        snapshot = await FreshAsync(ReloadOnMissEvery, cancellationToken);
        return snapshot.TokenHashByCanvas.GetValueOrDefault(canvas);
    }

    /// <summary>Forgets everything; the next question reloads. Called when a canvas is created or deleted anywhere.</summary>
    public void Invalidate() => current = current with { LoadedAt = DateTimeOffset.MinValue };

    /// <summary>The snapshot, reloaded first if it is older than <paramref name="maxAge"/>; concurrent callers share one reload.</summary>
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
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException && current.TokenHashByCanvas.Count > 0)
        {
            // The database is away: keep authorizing from what we knew, so emits go on, and try again shortly.
            logger.LogWarning(e, "Could not refresh canvases; using the cached list");
            current = current with { LoadedAt = DateTimeOffset.UtcNow - RefreshEvery + ReloadOnMissEvery };
            return current;
        }
    }
}
