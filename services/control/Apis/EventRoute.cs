namespace Workq.Control.Apis;

/// <summary>The route values of one queued event's route (<c>.../workers/{worker}/events/{id}</c>).</summary>
public sealed record EventRoute(string Canvas, string Worker, string Id)
{
    public WorkerRoute WorkerRoute => new(Canvas, Worker);
}
