using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Shared.Configuration;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>Per-minute and per-hour aggregates of a worker, or of a whole canvas (docs/API.md, "Metrics").</summary>
public static class MetricsApi
{
    public static RouteGroupBuilder MapMetricsApi(this RouteGroupBuilder canvas)
    {
        canvas.MapGet("/workers/{worker}/metrics", WorkerAsync);
        canvas.MapGet("/metrics", CanvasAsync);
        return canvas;
    }

    private static async Task<Results<Ok<MetricsAnswer>, ProblemHttpResult>> WorkerAsync(
        [AsParameters] WorkerRoute route,
        [AsParameters] MetricsQuery query,
        WorkerCommands commands,
        MetricsStore metrics,
        RetentionOptions options,
        CancellationToken cancellationToken) =>
        await commands.MissingAsync(route, cancellationToken)
            ?? await AnswerAsync(query, route.Canvas, route.Worker, metrics, options, cancellationToken);

    private static Task<Results<Ok<MetricsAnswer>, ProblemHttpResult>> CanvasAsync(
        string canvas,
        [AsParameters] MetricsQuery query,
        MetricsStore metrics,
        RetentionOptions options,
        CancellationToken cancellationToken) =>
        AnswerAsync(query, canvas, null, metrics, options, cancellationToken);

    private static async Task<Results<Ok<MetricsAnswer>, ProblemHttpResult>> AnswerAsync(
        MetricsQuery query,
        string canvas,
        string? worker,
        MetricsStore metrics,
        RetentionOptions options,
        CancellationToken cancellationToken)
    {
        var (range, problem) = Parse(query, options, DateTime.UtcNow);
        if (problem is not null) return Problems.BadRequest(problem);
        var points = await metrics.ReadAsync(
            canvas,
            worker,
            range.From,
            range.To,
            range.Step,
            options.MetricsMinuteRetention,
            cancellationToken);
        return TypedResults.Ok(new MetricsAnswer(range.Step, points));
    }

    public readonly record struct Range(DateTime From, DateTime To, int Step);

    /// <summary>
    /// <c>step</c> is 60 (default) or 3600; <c>to</c> defaults to now and <c>from</c> to an hour (a day at 3600) before
    /// it. A range may span at most the retention of its step, since nothing older is kept.
    /// </summary>
    public static (Range Range, string? Problem) Parse(MetricsQuery query, RetentionOptions options, DateTime now)
    {
        var step = MetricsStore.Minute;
        if (query.Step is { } rawStep)
        {
            if (!int.TryParse(rawStep, NumberStyles.None, CultureInfo.InvariantCulture, out step)
                || step is not (MetricsStore.Minute or MetricsStore.Hour))
                return (default, $"\"step\" must be 60 or 3600 (seconds), not '{Truncate(rawStep)}'.");
        }
        var span = step == MetricsStore.Minute ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        if (!Time(query.To, "to", now, out var to, out var bad)
            || !Time(query.From, "from", to - span, out var from, out bad))
            return (default, bad);
        if (from > to) return (default, $"\"from\" ({from:O}) is after \"to\" ({to:O}).");
        var longest = step == MetricsStore.Minute ? options.MetricsMinuteRetention : options.MetricsHourRetention;
        if (to - from > longest)
            return (default, $"The range is longer than {longest.TotalHours:0.##} hours, all that is kept at a step " +
                $"of {step} s (WORKQ_METRICS_*_RETENTION_*); use step=3600 or a shorter range.");
        return (new Range(from, to, step), null);
    }

    private static bool Time(string? raw, string name, DateTime fallback, out DateTime value, out string? problem)
    {
        problem = null;
        value = fallback;
        if (raw is null) return true;
        if (DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            && raw.Contains('T')
            && parsed.Year is > 1970 and < 9999)
        {
            value = parsed.UtcDateTime;
            return true;
        }
        problem = $"\"{name}\" must be an ISO 8601 time such as 2026-11-23T12:00:00Z, not '{Truncate(raw)}'.";
        return false;
    }

    private static string Truncate(string? value)
        => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";
}
