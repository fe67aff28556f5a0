namespace Workq.Shared.Storage;

/// <summary>
/// How a quarantined message is redriven: <c>Publish</c> puts it back on the broker as it was, where it was published
/// to (<c>Exchange</c>, <c>RoutingKey</c>); <c>Emit</c> publishes the event it holds to its worker (a delayed emit, a
/// cron's tick); <c>None</c>: a row of a flush (a status, a trace), kept to be read, is not redriven.
/// </summary>
public enum RedriveKind
{
    None,
    Publish,
    Emit,
}
