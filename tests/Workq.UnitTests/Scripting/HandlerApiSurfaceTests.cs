using Workq.Compiler;

namespace Workq.UnitTests.Scripting;

/// <summary>
/// docs/handler-api-surface.md is the guard's verdict on every member of every listed type: it must be what the guard
/// enforces now. WORKQ_UPDATE_SURFACE=1 rewrites it instead (after a change to the list or a new .NET version).
/// </summary>
public sealed class HandlerApiSurfaceTests
{
    [Fact]
    public void The_checked_in_table_is_the_guards_verdict_on_every_listed_member()
    {
        var generated = HandlerApiSurface.Generate(Scripts.Compiler.CreateCompilation(""));
        var path = Path.Combine(RepoPaths.Root, HandlerApiSurface.File);
        if (Environment.GetEnvironmentVariable("WORKQ_UPDATE_SURFACE") == "1")
        {
            File.WriteAllText(path, generated);
            return;
        }

        var checkedIn = File.Exists(path) ? File.ReadAllText(path) : "";
        if (checkedIn == generated) return;

        var expected = generated.Split('\n');
        var actual = checkedIn.Split('\n');
        var line = Enumerable.Range(0, Math.Max(expected.Length, actual.Length))
            .First(i => i >= expected.Length || i >= actual.Length || expected[i] != actual[i]);
        Assert.Fail($"""
            {HandlerApiSurface.File} is not the guard's verdict any more; regenerate it with
                {HandlerApiSurface.Command}
            and review the diff. First difference, line {line + 1}:
              checked in: {(line < actual.Length ? actual[line] : "(end of file)")}
              generated:  {(line < expected.Length ? expected[line] : "(end of file)")}
            """);
    }
}
