using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Workq.Control.Events;
using Workq.Shared.Http;

namespace Workq.Control.Batches;

/// <summary>The filter of the batch list.</summary>
public sealed record BatchListQuery(
    [property: FromQuery(Name = "state")]
    [property: Description("open, running or completed; all when not given.")]
    string? State);
