using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>A five-field UTC cron schedule that emits <c>Event</c> to <c>Worker</c> on each tick.</summary>
public sealed record Cron(
    string Name,
    string Schedule,
    string Worker,
    JsonNode? Event,
    DateTimeOffset? LastRun,
    DateTimeOffset? NextRun);
