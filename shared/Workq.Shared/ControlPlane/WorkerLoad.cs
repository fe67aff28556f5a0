namespace Workq.Shared.ControlPlane;

/// <summary>
/// Events of one worker in flight on the reporting instance, and how many of its consumers there are cancelled (paused,
/// say) but still finishing them: the broker counts such a consumer until its deliveries are settled.
/// </summary>
public sealed record WorkerLoad(string Canvas, string Worker, long InFlight, int Draining);
