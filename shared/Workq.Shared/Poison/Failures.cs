using System.Net.Sockets;
using Npgsql;
using RabbitMQ.Client.Exceptions;
using Workq.Shared.Messaging;

namespace Workq.Shared.Poison;

/// <summary>
/// Tells an outage from poison. A failure of the database or the broker themselves (unreachable, a connection lost, a
/// time-out, a queue full) is transient: the same message will go through once they are back. Anything else (data
/// PostgreSQL refuses, a message that does not parse, an exchange that does not exist, a message larger than the broker
/// takes) is the message's own and fails again every time.
/// </summary>
public static class Failures
{
    /// <summary>
    /// The soft errors a broker closes a channel with when it refuses what was asked: access refused (403), not found
    /// (404: a publish to an exchange that does not exist), resource locked (405), precondition failed (406: a message
    /// over its size limit, say). Other closes (a connection forced shut, a node going away) are outages.
    /// </summary>
    private static readonly int[] Refusals = [403, 404, 405, 406];

    public static bool IsTransient(Exception e) => e switch
    {
        PoisonMessageException => false,
        // Data exceptions (22), integrity violations (23) and program limits (54: a value too large to index) are the
        // row's; other errors (a missing table, a lost lock) are the database's state, not the message's.
        PostgresException postgres => !IsRowError(postgres.SqlState),
        NpgsqlException => true,
        BrokerUnavailableException unavailable => unavailable.InnerException is not { } inner || IsTransient(inner),
        OperationInterruptedException interrupted => interrupted
            .ShutdownReason is not { Initiator: RabbitMQ.Client.ShutdownInitiator.Peer } reason
            || !Refusals.Contains(reason.ReplyCode),
        QueueFullException or BrokerUnreachableException or TimeoutException or IOException or SocketException
            or OperationCanceledException => true,
        AggregateException { InnerExceptions.Count: 1 } single => IsTransient(single.InnerExceptions[0]),
        _ => IsMongoOutage(e),
    };

    /// <summary>
    /// The MongoDB trace store's driver (not referenced here): its errors are the server's (unreachable, a failover, a
    /// time-out) but for the write errors, which a document of its own causes (too large, say).
    /// </summary>
    private static bool IsMongoOutage(Exception e) =>
        e.GetType().Namespace?.StartsWith("MongoDB.", StringComparison.Ordinal) == true
            && e.GetType().Name is not ("MongoWriteException" or "MongoBulkWriteException");

    private static bool IsRowError(string sqlState) => sqlState.Length == 5 && sqlState[..2] is "22" or "23" or "54";

    /// <summary>
    /// One line: the exception's type and message, and its causes', without the stack trace (the log says it once per
    /// message).
    /// </summary>
    public static string Describe(Exception e, int maxLength = 2_000)
    {
        var text = new System.Text.StringBuilder();
        for (var cause = e; cause is not null && text.Length < maxLength; cause = cause.InnerException)
        {
            if (text.Length > 0) text.Append(" <- ");
            text.Append(cause.GetType().Name).Append(": ").Append(cause.Message);
        }
        var line = text.Replace('\r', ' ').Replace('\n', ' ').ToString();
        return line.Length <= maxLength ? line : line[..maxLength] + "…";
    }
}
