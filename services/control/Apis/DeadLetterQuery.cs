using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Workq.Shared.Http;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// The search filters of the dead-letter list, redrive and discard alike, bound with <c>[AsParameters]</c> as text.
/// </summary>
public sealed partial record DeadLetterQuery(
    [property: FromQuery(Name = "q"), MaxLength(DeadLetterQuery.MaxSearchLength)]
    [property: Description("A case-insensitive substring of the reason or of the event's payload text.")]
    string? Q,
    [property: FromQuery(Name = "reason"), MaxLength(DeadLetterQuery.MaxSearchLength)]
    [property: Description("How the reason starts, case-insensitive.")]
    string? Reason,
    [property: FromQuery(Name = "from"), ParsedAs(JsonSchemaType.String, Format = "date-time")]
    [property: Description("Dead-lettered at or after this ISO 8601 date or time.")]
    string? From,
    [property: FromQuery(Name = "to"), ParsedAs(JsonSchemaType.String, Format = "date-time")]
    [property: Description("Dead-lettered before this ISO 8601 date or time.")]
    string? To)
{
    public const int MaxSearchLength = 500;

    /// <summary>The filter, or a problem naming the parameter that is bad.</summary>
    public ProblemHttpResult? Parse(out DeadLetterFilter filter)
    {
        filter = new DeadLetterFilter();
        foreach (var (name, text) in new[] { ("q", Q), ("reason", Reason) })
        {
            if (text is null) continue;
            if (text.Length is 0 or > MaxSearchLength)
                return Problems.BadRequest($"\"{name}\" must be given once, 1 to {MaxSearchLength} characters.");
            filter = name == "q" ? filter with { Q = text } : filter with { Reason = text };
        }
        foreach (var (name, text) in new[] { ("from", From), ("to", To) })
        {
            if (text is null) continue;
            // ISO 8601 only (TryParse alone takes "1/2/2026" too); without an offset it is UTC.
            if (!IsoTime().IsMatch(text)
                || !DateTimeOffset.TryParse(
                    text,
                    CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal,
                    out var at))
                return Problems.BadRequest(
                    $"\"{name}\" must be an ISO 8601 date or date and time, such as 2026-01-31T12:00:00Z.");
            filter = name == "from" ? filter with { From = at } : filter with { To = at };
        }
        return filter is { From: { } f, To: { } t } && f > t
            ? Problems.BadRequest("\"from\" must not be after \"to\".")
            : null;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})?)?$",
        RegexOptions.IgnoreCase)]
    private static partial Regex IsoTime();
}
