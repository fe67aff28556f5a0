namespace Workq.Tests.Scripting;

/// <summary>
/// The compiler pool's tests measure time (a kill at the compile time-out, a cancellation answered before it): they
/// run alone, after the other collections, so that the tests beside them do not take the cores they time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CompilerTimingCollection
{
    public const string Name = "Compiler timing";
}
