using System.Text.Json;
using Workq.Client;
using Trace = Workq.Client.Trace;

namespace Workq.Tests.Infrastructure;

/// <summary>
/// The cluster's answers in Workq.Client's models (or a test's own record where the client has none): the same
/// requests as <see cref="WorkqCluster.JsonAsync"/>, so a test asserts on named fields a typo cannot silently miss.
/// Named after the client's methods of the same shape.
/// </summary>
public static class TypedReads
{
    /// <summary>The services' JSON as Workq.Client reads it: camelCase, web defaults.</summary>
    public static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web);

    public static T As<T>(this JsonNode? node) =>
        node.Deserialize<T>(ApiJson)
            ?? throw new Xunit.Sdk.XunitException($"expected a {typeof(T).Name}, the answer was empty");

    /// <summary>An answer's body read as text (a test that also checks its status) into a model.</summary>
    public static T As<T>(this string json) => JsonNode.Parse(json).As<T>();

    public static async Task<IReadOnlyList<Trace>> GetTracesAsync(
        this WorkqCluster cluster,
        string canvas,
        string worker) =>
        (await cluster.TracesAsync(canvas, worker)).As<List<Trace>>();

    public static async Task<Worker> GetWorkerAsync(this WorkqCluster cluster, string canvas, string worker) =>
        (await cluster.WorkerAsync(canvas, worker)).As<Worker>();

    /// <summary>The worker with what the client's model leaves out: scheduled, limits, runner.</summary>
    public static async Task<WorkerDetail> GetWorkerDetailAsync(
        this WorkqCluster cluster,
        string canvas,
        string worker) =>
        (await cluster.WorkerAsync(canvas, worker)).As<WorkerDetail>();
}
