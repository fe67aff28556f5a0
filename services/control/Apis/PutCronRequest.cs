using System.Text.Json;

namespace Workq.Control.Apis;

public sealed record PutCronRequest(string? Schedule, string? Worker, JsonElement? Event);
