using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>
/// WORKQ_PRIORITY_AGING_SECONDS (300): a low event waiting longer than this since it was enqueued is served as normal
/// (API.md "Priorities").
/// </summary>
public sealed class PriorityOptions
{
    public TimeSpan Aging { get; init; } = TimeSpan.FromSeconds(300);

    public static PriorityOptions From(IConfiguration config) => new()
    {
        Aging = Setting.Seconds(config, "WORKQ_PRIORITY_AGING_SECONDS", new PriorityOptions().Aging),
    };
}
