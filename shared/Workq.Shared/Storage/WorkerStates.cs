namespace Workq.Shared.Storage;

public static class WorkerStates
{
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Blocked = "blocked";
}
