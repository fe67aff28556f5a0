namespace Workq.Shared.Poison;

/// <summary>
/// What a split write left: the rows not written because the database went away meanwhile, and that failure.
/// </summary>
public sealed record SplitResult<T>(IReadOnlyList<T> Unwritten, Exception? Outage)
{
    public static readonly SplitResult<T> Done = new([], null);
}
