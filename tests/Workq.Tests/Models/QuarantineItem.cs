namespace Workq.Tests.Models;

/// <summary>
/// A message in the quarantine (API.md "Quarantine"): where it came from, why, and where a redrive puts it. The list
/// holds the first 4 KiB of the body; one item read alone holds it whole.
/// </summary>
public sealed record QuarantineItem(
    long Id,
    string Source,
    string Queue,
    string? Canvas,
    string? Worker,
    Guid? EventId,
    string Error,
    int Attempts,
    string? Redrive,
    string? Exchange,
    string? RoutingKey,
    int BodyBytes,
    string? Body,
    string? BodyEncoding,
    bool BodyTruncated,
    QuarantineItem.MessageProperties? Properties)
{
    /// <summary>The message's headers by name, as the broker had them (their values are the message's data).</summary>
    public sealed record MessageProperties(JsonObject? Headers);

    /// <summary>A header's text, or null when the message has no such header.</summary>
    public string? Header(string name) => Properties?.Headers?[name]?.GetValue<string>();
}
