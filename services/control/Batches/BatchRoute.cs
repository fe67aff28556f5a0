using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Workq.Control.Events;
using Workq.Shared.Http;

namespace Workq.Control.Batches;

/// <summary>The route values and query of a batch's route.</summary>
public sealed record BatchRoute(string Canvas, string Id,
    [property: FromQuery(Name = "wait"), ParsedAs(JsonSchemaType.Integer), Range(0, EventsApi.MaxWaitSeconds)]
    [property: Description("Seconds to wait for the batch to finish, 0 to 60.")]
    string? Wait);
