using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Workq.Control.Deploying;
using Workq.Shared.Configuration;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>Reads the bodies of PUT and PATCH on a worker, and explains what is wrong with them.</summary>
public static class WorkerRequests
{
    public const int MaxConcurrency = 1_000;

    /// <summary>
    /// The worker's settings, which PUT and PATCH both take: a new setting is added here once, for both.
    /// </summary>
    private static readonly string[] SettingNames = ["concurrency", "retry", "rateLimit"];

    public static async Task<(WorkerDeploy? Deploy, ProblemHttpResult? Problem)> ReadPutAsync(
        HttpRequest request,
        CompilerOptions options,
        CancellationToken cancellationToken)
    {
        // A body past the JSON limit cannot hold code within the code limit either: say so as the code limit.
        if (request.ContentLength > RequestJson.MaxControlBodyBytes) return (null, Problems.CodeTooLarge(
            options.MaxCodeBytes));
        var (body, problem) = await RequestJson.ReadAsync<JsonObject>(request, cancellationToken);
        if (problem is not null) return (null, problem);
        if (UnknownFields(body!, "PUT", ["code", .. SettingNames]) is { } unknown) return (null, unknown);
        if (body!["code"] is not JsonValue codeNode || !codeNode.TryGetValue<string>(out var code)
            || string.IsNullOrWhiteSpace(code))
            return (null, Problems.BadRequest("\"code\" is required: the handler's C# script body."));
        if (Encoding.UTF8.GetByteCount(code) > options.MaxCodeBytes) return (null, Problems.CodeTooLarge(
            options.MaxCodeBytes));
        var (settings, invalid) = ParseSettings(body);
        return invalid is not null ? (null, invalid) : (new WorkerDeploy(code, settings!), null);
    }

    public static async Task<(WorkerSettings? Settings, ProblemHttpResult? Problem)> ReadPatchAsync(
        HttpRequest request,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestJson.ReadAsync<JsonObject>(request, cancellationToken);
        if (problem is not null) return (null, problem);
        var (settings, invalid) = ParseSettings(body!);
        if (invalid is not null) return (null, invalid);
        return UnknownFields(body!, "PATCH", SettingNames) is { } unknown ? (null, unknown) : (settings, null);
    }

    private static (WorkerSettings? Settings, ProblemHttpResult? Problem) ParseSettings(JsonObject body)
    {
        int? concurrency = null;
        if (body.TryGetPropertyValue("concurrency", out var concurrencyNode) && concurrencyNode is not null)
        {
            if (concurrencyNode is not JsonValue value || !value.TryGetValue<int>(out var parsed))
                return (null, Problems.BadRequest(
                    $"\"concurrency\" must be a whole number from 1 to {MaxConcurrency}."));
            if (parsed is < 1 or > MaxConcurrency) return (null, Problems.BadRequest(
                $"\"concurrency\" must be from 1 to {MaxConcurrency}, not {parsed}."));
            concurrency = parsed;
        }
        RetryPolicy? retry = null;
        var clearRetry = false;
        if (body.TryGetPropertyValue("retry", out var retryNode))
        {
            if (retryNode is null) clearRetry = true;
            else
            {
                (retry, var error) = RetryPolicies.Parse(retryNode);
                if (error is not null) return (null, Problems.BadRequest(error));
            }
        }
        var (rateLimit, clearRateLimit, rateError) = ParseRateLimit(body);
        if (rateError is not null) return (null, Problems.BadRequest(rateError));
        return (new WorkerSettings(concurrency, retry, clearRetry, rateLimit, clearRateLimit), null);
    }

    public const int MaxRateEvents = 1_000_000;
    public const double MaxRatePerSeconds = 86_400;

    /// <summary>
    /// <c>rateLimit</c>: absent leaves it, <c>null</c> removes it, else <c>{"events": 1..1,000,000, "perSeconds": (0,
    /// 86,400]}</c>.
    /// </summary>
    private static (RateLimit? Limit, bool Clear, string? Error) ParseRateLimit(JsonObject body)
    {
        if (!body.TryGetPropertyValue("rateLimit", out var node)) return (null, false, null);
        if (node is null) return (null, true, null);
        const string Shape = "\"rateLimit\" must be {\"events\": N, \"perSeconds\": S} or null";
        if (node is not JsonObject limit) return (null, false, $"{Shape}.");
        if (limit.Select(p => p.Key).FirstOrDefault(k => k is not ("events" or "perSeconds")) is { } unknown)
            return (null, false, $"{Shape}; \"{unknown}\" is not one of its fields.");
        if (limit["events"] is not JsonValue eventsNode || !eventsNode.TryGetValue<int>(out var events)
            || events is < 1 or > MaxRateEvents)
            return (null, false, $"\"rateLimit.events\" must be a whole number from 1 to 1,000,000.");
        if (limit["perSeconds"] is not JsonValue secondsNode || !secondsNode.TryGetValue<double>(out var perSeconds)
            || !double.IsFinite(perSeconds) || perSeconds <= 0 || perSeconds > MaxRatePerSeconds)
            return (null, false, $"\"rateLimit.perSeconds\" must be a number of seconds above 0 and at most 86,400.");
        return (new RateLimit(events, perSeconds), false, null);
    }

    /// <summary>
    /// A field the route does not take is refused by name: a misspelt setting must not be silently ignored.
    /// </summary>
    private static ProblemHttpResult? UnknownFields(JsonObject body, string method, string[] allowed)
    {
        var unknown = body.Select(p => p.Key).Where(k => !allowed.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count == 0) return null;
        var takes = string.Join(", ", allowed.Select(a => $"\"{a}\""));
        return Problems.BadRequest(method == "PATCH"
            ? $"Unknown setting(s): {string.Join(", ", unknown)}. PATCH takes {takes}; deploy code with PUT."
            : $"Unknown field(s): {string.Join(", ", unknown)}. PUT takes {takes}.");
    }
}
