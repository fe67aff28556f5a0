namespace Workq.Control.Apis;

/// <summary>
/// The route values of a worker's routes, bound with <c>[AsParameters]</c>; the canvas group's filter has checked both
/// names.
/// </summary>
public sealed record WorkerRoute(string Canvas, string Worker);

/// <summary>The route values of one queued event's route (<c>.../workers/{worker}/events/{id}</c>).</summary>
public sealed record EventRoute(string Canvas, string Worker, string Id)
{
    public WorkerRoute WorkerRoute => new(Canvas, Worker);
}

/// <summary>The route values of a cron's routes.</summary>
public sealed record CronRoute(string Canvas, string Cron);
