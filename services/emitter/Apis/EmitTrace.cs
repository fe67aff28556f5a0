using System.ComponentModel;
using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Workq.Emitter.Apis;

/// <summary>The caller's W3C <c>traceparent</c> header of an emit, bound with <c>[AsParameters]</c>.</summary>
public sealed record EmitTrace(
    [property: FromHeader(Name = "traceparent")]
    [property: Description("The caller's W3C trace context: the events' runs join its trace.")]
    string? TraceParent)
{
    /// <summary>
    /// The traceparent when it is one (it is stored with a delayed event, and sent on with it); else null.
    /// </summary>
    public string? Parent =>
        TraceParent is { Length: 55 } parent && ActivityContext.TryParse(parent, null, out _) ? parent : null;
}
