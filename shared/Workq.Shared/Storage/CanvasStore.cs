using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

public sealed record CanvasSummary(string Name, int Workers);

/// <summary>Canvases and their token hashes (the token itself is never stored).</summary>
public sealed class CanvasStore(NpgsqlDataSource db)
{
    /// <returns>false when a canvas of that name exists already.</returns>
    public async Task<bool> CreateAsync(string name, string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.ExecuteAsync(new CommandDefinition(
            "insert into canvases (name, token_hash) values (@name, @tokenHash) on conflict (name) do nothing",
            new { name, tokenHash }, cancellationToken: cancellationToken));
        return rows == 1;
    }

    public async Task<IReadOnlyList<CanvasSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Name, long Workers)>(new CommandDefinition(
            "select c.name, count(w.name) from canvases c left join workers w on w.canvas = c.name group by c.name order by c.name",
            cancellationToken: cancellationToken));
        return rows.Select(r => new CanvasSummary(r.Name, (int)r.Workers)).ToList();
    }

    /// <summary>Every canvas with its token hash, for the caches that authorize without a query per request.</summary>
    public async Task<IReadOnlyDictionary<string, string>> TokenHashesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Name, string TokenHash)>(new CommandDefinition(
            "select name, token_hash from canvases", cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Name, r => r.TokenHash, StringComparer.Ordinal);
    }

    public async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from canvases where name = @name)", new { name }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Deletes the canvas row, its token and (by the schema's cascade) its workers; the other stores' rows are theirs to
    /// delete first (control's CanvasDeletion). Returns false when there was no such canvas.
    /// </summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from canvases where name = @name", new { name }, cancellationToken: cancellationToken)) > 0;
    }
}
