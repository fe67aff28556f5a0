namespace Workq.Shared.Storage;

public sealed record DeadLetter(
    Guid Id,
    System.Text.Json.Nodes.JsonNode? Event,
    string Reason,
    int Attempts,
    DateTimeOffset DeadLetteredAt);
