namespace Workq.Tests.Models;

/// <summary>What a handler that followed a redirect returns: the body it got and the path it ended at.</summary>
public sealed record RedirectLanding(string? Body, string? At);
