using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Shared.Handlers;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>Validation of the opt-in retry policy <c>{"maxAttempts": 3, "backoffSeconds": [5, 30]}</c>.</summary>
public static class RetryPolicies
{
    public const int MaxAttempts = 100;
    public const int MaxBackoffSeconds = 86_400;

    public static (RetryPolicy? Policy, string? Error) Parse(JsonNode node)
    {
        RetryPolicy? policy;
        try
        {
            policy = node.Deserialize<RetryPolicy>(JsonDefaults.Web);
        }
        catch (JsonException)
        {
            policy = null;
        }
        const string shape = "\"retry\" must be null or {\"maxAttempts\": 1-100, \"backoffSeconds\": [seconds, ...]}";
        if (policy is null || node is not JsonObject) return (null, shape);
        if (policy
            .MaxAttempts is < 1 or > MaxAttempts) return (null, $"{shape}; maxAttempts was {policy.MaxAttempts}.");
        var backoff = policy.BackoffSeconds ?? [];
        if (backoff.Length > 20 || backoff.Any(s => s is < 0 or > MaxBackoffSeconds))
            return (null, $"{shape}; each backoff is 0 to {MaxBackoffSeconds} seconds, at most 20 of them.");
        return (policy with { BackoffSeconds = backoff }, null);
    }
}
