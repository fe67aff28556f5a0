using Microsoft.Extensions.Logging.Abstractions;
using Workq.Control.Compiling;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Tests.Scripting;

/// <summary>The pool against the real Workq.Compiler from the build output.</summary>
[Collection(CompilerTimingCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Alone)]
public sealed class CompilerPoolTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly CompilerPool pool = new(
        new CompilerPoolOptions(Path.Combine(
            RepoPaths.Root,
            "services",
            "compiler",
            "bin",
            RepoPaths.Configuration,
            "net10.0",
            "Workq.Compiler.dll"), Processes: 1, Timeout, HeapMegabytes: 512),
        NullLogger<CompilerPool>.Instance);

    public Task InitializeAsync() => pool.StartAsync(CancellationToken.None);

    public async Task DisposeAsync() => await pool.DisposeAsync();

    [Fact]
    public async Task Code_compiles_and_errors_carry_their_position()
    {
        var good = await pool.CompileAsync("Log(\"hi\");\nreturn 1;", CancellationToken.None);
        var bad = await pool.CompileAsync("var x = 1;\nreturn y;", CancellationToken.None);
        var forbidden = await pool.CompileAsync(
            "return System.IO.File.Exists(\"/etc/passwd\");",
            CancellationToken.None);

        Assert.True(good.Succeeded, string.Join("\n", good.Errors));
        Assert.Equal(CompileStatus.Compiled, bad.Status);
        var error = Assert.Single(bad.Errors);
        Assert.Equal((2, 8), (error.Line, error.Column));
        Assert.StartsWith("CS0103", error.Message);
        Assert.Contains(forbidden.Errors, e => e.Message.Contains("forbidden API: System.IO.File.Exists"));
    }

    [Fact]
    public async Task A_bomb_is_killed_at_the_timeout_a_compile_meanwhile_is_busy_and_the_next_one_compiles()
    {
        Assert.True((await pool.CompileAsync("return 1;", CancellationToken.None)).Succeeded, "the process warms up");
        var clock = Stopwatch.StartNew();
        var bomb = pool.CompileAsync(CompileBomb.Code(), CancellationToken.None);

        var meanwhile = await pool.CompileAsync("return 2;", CancellationToken.None);
        var bombed = await bomb;
        var elapsed = clock.Elapsed;
        var after = await pool.CompileAsync("return 3;", CancellationToken.None);

        Assert.Equal(CompileStatus.Busy, meanwhile.Status);
        Assert.Equal(CompileStatus.TimedOut, bombed.Status);
        Assert.InRange(elapsed, Timeout, Timeout + TimeSpan.FromSeconds(3));
        Assert.True(after.Succeeded, $"after the kill: {after}");
    }

    [Fact]
    public async Task A_caller_that_gives_up_gets_its_compile_killed()
    {
        Assert.True((await pool.CompileAsync("return 0;", CancellationToken.None)).Succeeded, "the process warms up");
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => pool.CompileAsync(CompileBomb.Code(), giveUp.Token));

        Assert.True(clock.Elapsed < Timeout, $"answered the cancellation after {clock.Elapsed}");
        Assert.True((await pool.CompileAsync("return 1;", CancellationToken.None)).Succeeded);
    }
}
