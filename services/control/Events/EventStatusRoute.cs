using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Workq.Shared.Http;

namespace Workq.Control.Events;

/// <summary>The route values and query of the event status route.</summary>
public sealed record EventStatusRoute(string Canvas, string Id,
    [property: FromQuery(Name = "wait"), ParsedAs(JsonSchemaType.Integer), Range(0, EventsApi.MaxWaitSeconds)]
    [property: Description("Seconds to wait for the event to finish, 0 to 60.")]
    string? Wait);
