using System.Text.Json.Serialization;

namespace Workq.Shared.Storage;

/// <summary>
/// At most <c>Events</c> handler runs per <c>PerSeconds</c>, over every worker instance (API.md <c>rateLimit</c>).
/// </summary>
public sealed record RateLimit(int Events, double PerSeconds)
{
    /// <summary>Seconds between two tokens.</summary>
    [JsonIgnore] public double Interval => PerSeconds / Events;
}
