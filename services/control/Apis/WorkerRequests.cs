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

    /// <summary>The worker's settings, which PUT and PATCH both take: a new setting is added here once, for both.</summary>
    private static readonly string[] SettingNames = ["concurrency", "retry"];

    public static async Task<(WorkerDeploy? Deploy, ProblemHttpResult? Problem)> ReadPutAsync(HttpRequest request, WorkqOptions options, CancellationToken cancellationToken)
    {
        // A body past the JSON limit cannot hold code within the code limit either: say so as the code limit.
        if (request.ContentLength > RequestJson.MaxControlBodyBytes) return (null, Problems.CodeTooLarge(options.MaxCodeBytes));
        var (body, problem) = await RequestJson.ReadAsync<JsonObject>(request, cancellationToken);
        if (problem is not null) return (null, problem);
        if (UnknownFields(body!, "PUT", ["code", .. SettingNames]) is { } unknown) return (null, unknown);
        if (body!["code"] is not JsonValue codeNode || !codeNode.TryGetValue<string>(out var code) || string.IsNullOrWhiteSpace(code))
            return (null, Problems.BadRequest("\"code\" is required: the handler's C# script body."));
        if (Encoding.UTF8.GetByteCount(code) > options.MaxCodeBytes) return (null, Problems.CodeTooLarge(options.MaxCodeBytes));
        var (settings, invalid) = ParseSettings(body);
        return invalid is not null ? (null, invalid) : (new WorkerDeploy(code, settings!), null);
    }

    public static async Task<(WorkerSettings? Settings, ProblemHttpResult? Problem)> ReadPatchAsync(HttpRequest request, CancellationToken cancellationToken)
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
                return (null, Problems.BadRequest($"\"concurrency\" must be a whole number from 1 to {MaxConcurrency}."));
            if (parsed is < 1 or > MaxConcurrency) return (null, Problems.BadRequest($"\"concurrency\" must be from 1 to {MaxConcurrency}, not {parsed}."));
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
        return (new WorkerSettings(concurrency, retry, clearRetry), null);
    }

    /// <summary>A field the route does not take is refused by name: a misspelt setting must not be silently ignored.</summary>
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
