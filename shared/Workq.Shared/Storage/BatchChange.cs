namespace Workq.Shared.Storage;

/// <summary>What an add or a close did: done, or why not.</summary>
public enum BatchChange
{
    Done,
    NotFound,
    Closed,
    Finished,
}
