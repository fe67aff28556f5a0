using Workq.Shared.Handlers.Scripting;

namespace Workq.Worker.Runs;

/// <summary>
/// A result a runner process already turned into JSON (<see cref="JsonResult.ToTraceJson"/>), as UTF-8: held to
/// WORKQ_MAX_TRACE_BYTES by the trace budget (Recording/TraceBudget.cs).
/// </summary>
public sealed class TraceResult(byte[] json)
{
    /// <summary>
    /// What most handlers return: one instance, so that a run returning nothing allocates nothing for it.
    /// </summary>
    public static readonly TraceResult Null = new("null"u8.ToArray());

    public byte[] Json => json;

    public static TraceResult From(ReadOnlySpan<byte> json) =>
        json.IsEmpty || json.SequenceEqual("null"u8) ? Null : new(json.ToArray());
}
