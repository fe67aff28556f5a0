namespace Workq.Tests.Integration.ApiFuzz;

/// <summary>A parameter of an operation: in the path, the query or a header, with its JSON schema.</summary>
public sealed record ApiParameter(string Name, string In, JsonNode? Schema);
