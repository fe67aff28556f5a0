namespace Workq.Client;

public sealed record TraceError(string Type, string Message);
