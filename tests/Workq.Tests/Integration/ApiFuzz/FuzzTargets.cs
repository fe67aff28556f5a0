namespace Workq.Tests.Integration.ApiFuzz;

/// <summary>
/// What the generated requests aim at: a canvas with a worker and a cron, so that their paths resolve, and event ids
/// known there.
/// </summary>
public sealed record FuzzTargets(
    string AdminToken,
    string Canvas,
    string CanvasToken,
    string Worker,
    string Cron,
    IReadOnlyList<Guid> EventIds);
