using Workq.Client;

namespace Workq.Tests.Models;

/// <summary>
/// An application/problem+json answer; <c>Errors</c> only on a deploy's compile or forbidden-API refusal.
/// </summary>
public sealed record Problem(string? Title, string? Detail, int? Status, IReadOnlyList<CompileError>? Errors);
