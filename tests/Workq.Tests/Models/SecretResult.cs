namespace Workq.Tests.Models;

/// <summary>What the hostile-tenant victim's worker returns: the secret its event carried.</summary>
public sealed record SecretResult(string? Secret);
