namespace Workq.Control.Apis;

/// <summary>The route values of a cron's routes.</summary>
public sealed record CronRoute(string Canvas, string Cron);
