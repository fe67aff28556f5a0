using System.Text.Json.Nodes;
using Workq.Shared.Handlers;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record CronView(
    string Name,
    string Schedule,
    string Worker,
    JsonNode? Event,
    DateTimeOffset? LastRun,
    DateTimeOffset NextRun)
{
    public static CronView From(CronRecord cron)
        => new(cron.Name, cron.Schedule, cron.Worker, JsonText.ParseOrString(cron.Event), cron.LastRun, cron.NextRun);
}
