using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Workq.Shared.Http;

namespace Workq.Control.Apis;

/// <summary>
/// The query of the metrics routes, bound with <c>[AsParameters]</c> as text; <see cref="MetricsApi.Parse"/> reads it.
/// </summary>
public sealed record MetricsQuery(
    [property: FromQuery(Name = "from"), ParsedAs(JsonSchemaType.String, Format = "date-time")]
    [property: Description("The first step's time (ISO 8601); default an hour (a day at step 3600) before to.")]
    string? From,
    [property: FromQuery(Name = "to"), ParsedAs(JsonSchemaType.String, Format = "date-time")]
    [property: Description("The last step's time (ISO 8601); default now.")]
    string? To,
    [property: FromQuery(Name = "step"), ParsedAs(JsonSchemaType.Integer), Range(60, 3600)]
    [property: Description("Seconds per point: 60 (default) or 3600.")]
    string? Step);
