using System.Text.Json.Nodes;

namespace Workq.Client;

public sealed record DeadLetter(Guid Id, JsonNode? Event, string Reason, int Attempts, DateTimeOffset DeadLetteredAt);
