namespace Workq.Shared.Storage;

/// <summary>The names of a batch's callbacks, which its callbacks' ids are derived from.</summary>
public static class BatchCallbacks
{
    public const string OnComplete = "onComplete", OnSuccess = "onSuccess";
}
