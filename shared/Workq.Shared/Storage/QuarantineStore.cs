using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Workq.Shared.Poison;

namespace Workq.Shared.Storage;

/// <summary>
/// The quarantine (table <c>quarantine</c>): messages an internal consumer gave up on after a bounded number of
/// attempts, whole, until an operator redrives or discards them (docs/DESIGN.md "Quarantine"). Never trimmed: nothing
/// in it is dropped but by an operator, or with its canvas (a canvas's messages go when it is deleted). Everything it
/// writes is text PostgreSQL takes (see <see cref="MessageCodec.Clean"/>): the last stop must not refuse what it is
/// given.
/// </summary>
public sealed class QuarantineStore(NpgsqlDataSource db) : ICanvasData
{
    private const string Columns = """
        id, source, redrive, queue, exchange, routing_key, canvas, worker, event_id, error, attempts, first_failed_at,
            quarantined_at,
        length(body) as body_bytes, properties::text as properties
        """;
    private const int MaxNameLength = 255, MaxErrorLength = 8_000;

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from quarantine where canvas = @canvas", new { canvas }, cancellationToken);

    public async Task<long> AddAsync(QuarantineEntry entry, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await AddAsync(entry, connection, null, cancellationToken);
    }

    /// <summary>
    /// In the caller's transaction: a row moved from another table to the quarantine is in exactly one of them.
    /// </summary>
    public static async Task<long> AddAsync(
        QuarantineEntry entry,
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into quarantine (source, redrive, queue, exchange, routing_key, canvas, worker, event_id, body,
                properties, error, attempts, first_failed_at)
            values (@source, @redrive, @queue, @exchange, @routingKey, @canvas, @worker, @eventId, @body, @properties,
                @error, @attempts, @firstFailedAt)
            returning id
            """, connection, transaction);
        command.Parameters.AddWithValue("source", Name(entry.Source)!);
        command.Parameters.AddWithValue("redrive", Redrive(entry.Redrive));
        command.Parameters.Add(Text("queue", Name(entry.Queue)));
        command.Parameters.Add(Text("exchange", entry.Exchange is null ? null : Name(entry.Exchange)));
        command.Parameters.Add(Text("routingKey", Name(entry.RoutingKey)));
        command.Parameters.Add(Text("canvas", Name(entry.Canvas)));
        command.Parameters.Add(Text("worker", Name(entry.Worker)));
        command.Parameters.Add(
            new NpgsqlParameter("eventId", NpgsqlDbType.Uuid) { Value = entry.EventId is { } id ? id : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("body", NpgsqlDbType.Bytea) { Value = entry.Body.ToArray() });
        command.Parameters
            .Add(new NpgsqlParameter("properties", NpgsqlDbType.Jsonb) { Value = entry.Properties.ToJsonString() });
        command.Parameters.AddWithValue("error", Truncate(MessageCodec.Clean(entry.Error), MaxErrorLength));
        command.Parameters.AddWithValue("attempts", entry.Attempts);
        command.Parameters.AddWithValue("firstFailedAt", entry.FirstFailedAt.UtcDateTime);
        var quarantined = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        Telemetry.WorkqDiagnostics.Quarantined.Add(1, new KeyValuePair<string, object?>("workq.source", entry.Source));
        return quarantined;
    }

    /// <summary>
    /// Newest first, after <paramref name="before"/> (an id of the previous page); each body cut to its first <paramref
    /// name="bodyBytes"/>.
    /// </summary>
    public async Task<IReadOnlyList<QuarantinedMessage>> ListAsync(
        QuarantineFilter filter,
        long? before,
        int limit,
        int bodyBytes,
        CancellationToken cancellationToken)
    {
        var (where, args) = Where(filter);
        if (before is { } after)
        {
            where += " and id < @before";
            args.Add("before", after);
        }
        args.Add("limit", limit);
        args.Add("bodyBytes", bodyBytes);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns}, substring(body from 1 for @bodyBytes) as body from quarantine where {where} order by " +
                $"id desc limit @limit",
            args, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToMessage()).ToList();
    }

    public async Task<QuarantinedMessage?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns}, body from quarantine where id = @id", new { id },
                cancellationToken: cancellationToken));
        return row?.ToMessage();
    }

    public async Task<bool> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("delete from quarantine where id = @id", new { id },
            cancellationToken: cancellationToken)) > 0;
    }

    public async Task<int> DeleteAsync(QuarantineFilter filter, CancellationToken cancellationToken)
    {
        var (where, args) = Where(filter);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(
            new CommandDefinition($"delete from quarantine where {where}", args, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Hands the message to <paramref name="redrive"/> and deletes it once that returned, under a row lock, so two
    /// redrives of one message never both publish it. False when there is no such message; a failed redrive leaves it
    /// where it is.
    /// </summary>
    public async Task<bool> RedriveAsync(
        long id,
        Func<QuarantinedMessage, Task> redrive,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns}, body from quarantine where id = @id for update", new { id }, transaction,
                cancellationToken: cancellationToken));
        if (row is null) return false;
        await redrive(row.ToMessage());
        await connection
            .ExecuteAsync(new CommandDefinition("delete from quarantine where id = @id", new { id }, transaction,
                cancellationToken: CancellationToken.None));
        await transaction.CommitAsync(CancellationToken.None);
        return true;
    }

    /// <summary>
    /// Redrives the redrivable messages the filter selects, oldest first, each deleted once <paramref name="redrive"/>
    /// returned. Only those there when it starts: one that fails again and comes back to the quarantine is not taken
    /// twice. When a redrive fails, those before it stay redriven and the error is thrown: the rest stay.
    /// </summary>
    public async Task<int> RedriveAsync(
        QuarantineFilter filter,
        Func<QuarantinedMessage, Task> redrive,
        CancellationToken cancellationToken)
    {
        var (where, args) = Where(filter);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        args.Add("last", await connection
            .ExecuteScalarAsync<long>(new CommandDefinition("select coalesce(max(id), 0) from quarantine",
                cancellationToken: cancellationToken)));
        var total = 0;
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var rows = (await connection.QueryAsync<Row>(new CommandDefinition($"""
                select {Columns}, body from quarantine where {where} and redrive <> 'none' and id <= @last order by id
                    limit 100 for update skip locked
                """, args, transaction, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0) return total;
            var done = new List<long>(rows.Count);
            Exception? failed = null;
            foreach (var row in rows)
            {
                try
                {
                    await redrive(row.ToMessage());
                    done.Add(row.Id);
                }
                catch (Exception e)
                {
                    failed = e;
                    break;
                }
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "delete from quarantine where id = any(@done)",
                new { done = done.ToArray() },
                transaction,
                cancellationToken: CancellationToken.None));
            await transaction.CommitAsync(CancellationToken.None);
            total += done.Count;
            if (failed is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
        }
    }

    /// <summary>
    /// How many messages each source has in the quarantine (for the <c>workq.quarantine.messages</c> gauge).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Source, long Count)>(new CommandDefinition(
            "select source, count(*) from quarantine group by source", cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Source, r => r.Count);
    }

    private static (string Sql, DynamicParameters Args) Where(QuarantineFilter filter)
    {
        var sql = "true";
        var args = new DynamicParameters();
        if (filter.Source is { } source)
        {
            sql += " and source = @source";
            args.Add("source", source);
        }
        if (filter.Canvas is { } canvas)
        {
            sql += " and canvas = @canvas";
            args.Add("canvas", canvas);
        }
        return (sql, args);
    }

    private static string Redrive(RedriveKind kind) => kind.ToString().ToLowerInvariant();

    private static NpgsqlParameter Text(string name, string? value)
        => new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    private static string? Name(string? value)
        => value is null ? null : Truncate(MessageCodec.Clean(value), MaxNameLength);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private sealed class Row
    {
        public long Id { get; set; }
        public string Source { get; set; } = "";
        public string Redrive { get; set; } = "none";
        public string? Queue { get; set; }
        public string? Exchange { get; set; }
        public string? Routing_Key { get; set; }
        public string? Canvas { get; set; }
        public string? Worker { get; set; }
        public Guid? Event_Id { get; set; }
        public string Error { get; set; } = "";
        public int Attempts { get; set; }
        public DateTime First_Failed_At { get; set; }
        public DateTime Quarantined_At { get; set; }
        public int Body_Bytes { get; set; }
        public string Properties { get; set; } = "{}";
        public byte[] Body { get; set; } = [];

        public QuarantinedMessage ToMessage() => new(
            Id,
            Source,
            Enum.Parse<RedriveKind>(Redrive, ignoreCase: true),
            Queue,
            Exchange,
            Routing_Key,
            Canvas,
            Worker,
            Event_Id,
            Error,
            Attempts,
            UnhandledStore.Utc(First_Failed_At),
            UnhandledStore.Utc(
                Quarantined_At),
            Body_Bytes,
            Body,
            JsonNode.Parse(Properties) as JsonObject ?? []);
    }
}
