namespace Workq.Shared.Storage;

/// <summary>The states of API.md's batch.</summary>
public static class BatchStates
{
    public const string Open = "open", Running = "running", Completed = "completed";

    public static bool IsState(string? text) => text is Open or Running or Completed;
}
