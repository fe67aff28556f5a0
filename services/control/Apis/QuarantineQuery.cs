using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Workq.Shared;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>The filters of the quarantine's list, redrive, discard, bound with <c>[AsParameters]</c> as text.</summary>
public sealed record QuarantineQuery(
    [property: FromQuery(Name = "source"), MaxLength(QuarantineQuery.MaxSourceLength)]
    [property: Description(
        "The consumer that gave up on the message (one of API.md's sources; other text matches nothing).")]
    string? Source,
    [property: FromQuery(Name = "canvas")]
    [property: Description("Only the messages of this canvas.")]
    string? Canvas)
{
    public const int MaxSourceLength = 255;

    /// <summary>The filter, or a problem naming the parameter that is bad.</summary>
    public ProblemHttpResult? Parse(out QuarantineFilter filter)
    {
        filter = new QuarantineFilter();
        if (Source is not null)
        {
            if (Source.Length is 0 or > MaxSourceLength)
                return Problems.BadRequest($"\"source\" must be given once, 1 to {MaxSourceLength} characters.");
            filter = filter with { Source = Source };
        }
        if (Canvas is not null)
        {
            if (!Names.IsValid(Canvas)) return Problems.BadName("canvas", Canvas);
            filter = filter with { Canvas = Canvas };
        }
        return null;
    }
}
