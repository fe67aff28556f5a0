using Microsoft.Extensions.Logging;
using Workq.Shared.Storage;

namespace Workq.Shared.Auth;

/// <summary>
/// Which canvases exist and which token opens each, kept in memory so that authorizing an emit
/// costs no database round trip. Refreshed on control-plane events and periodically; a name it
/// does not know is looked up once in the database before it answers "no such canvas".
/// </summary>
public sealed class CanvasDirectory(CanvasStore canvases, ILogger<CanvasDirectory> logger)
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(30);
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
        var snapshot = await FreshAsync(cancellationToken);
        if (snapshot.CanvasByTokenHash.TryGetValue(hash, out var canvas)) return canvas;
        // A canvas created a moment ago on another instance: reload once.
        snapshot = await ReloadAsync(cancellationToken);
        return snapshot.CanvasByTokenHash.GetValueOrDefault(hash);
    }

    private async ValueTask<string?> TokenHashAsync(string canvas, CancellationToken cancellationToken)
    {
        var snapshot = await FreshAsync(cancellationToken);
        if (snapshot.TokenHashByCanvas.TryGetValue(canvas, out var hash)) return hash;
        var stored = await canvases.TokenHashAsync(canvas, cancellationToken);
        if (stored is not null) await ReloadAsync(cancellationToken);
        return stored;
    }

    /// <summary>Forgets everything; the next question reloads. Called when a canvas is created or deleted anywhere.</summary>
    public void Invalidate() => current = current with { LoadedAt = DateTimeOffset.MinValue };

    private async ValueTask<Snapshot> FreshAsync(CancellationToken cancellationToken)
    {
        var snapshot = current;
        return DateTimeOffset.UtcNow - snapshot.LoadedAt < RefreshEvery ? snapshot : await ReloadAsync(cancellationToken);
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
            // The database is away: keep authorizing from what we knew, so emits go on.
            logger.LogWarning(e, "Could not refresh canvases; using the cached list");
            return current;
        }
    }
}
