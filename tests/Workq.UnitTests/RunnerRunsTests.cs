using Workq.Shared.Handlers.Isolation;
using Workq.Shared.Messaging;
using Workq.UnitTests.Scripting;
using Workq.Worker.Isolation;
using Workq.Worker.Runs;

namespace Workq.UnitTests;

/// <summary>
/// The decisions a runner process makes about the runs it holds, without a process: which frame ids are a protocol
/// break, which runs are overdue, what a closed runner refuses, and how each held run ends with the runner.
/// </summary>
public sealed class RunnerRunsTests
{
    private static HandlerRun Run(double timeoutSeconds = 5) =>
        new(new EventEnvelope(Guid.NewGuid(), "shop", "mail", DateTimeOffset.UtcNow, 0, null), 1, [], new FakeEmitter(),
            TimeSpan.FromSeconds(timeoutSeconds));

    [Fact]
    public void Runs_get_increasing_ids_and_a_done_one_is_taken_once()
    {
        var runs = new RunnerRuns();
        var first = runs.Add(Run(), deadline: 100, CancellationToken.None)!;
        var second = runs.Add(Run(), deadline: 100, CancellationToken.None)!;
        Assert.Equal(1, first.Id);
        Assert.Equal(2, second.Id);
        Assert.Equal(2, runs.Count);

        Assert.True(runs.TryTake(1, out var taken));
        Assert.Same(first, taken);
        Assert.False(runs.TryTake(1, out _));
        Assert.Equal(1, runs.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3)]
    [InlineData(long.MaxValue)]
    public void A_frame_about_a_run_never_given_is_a_protocol_break(long id)
    {
        var runs = new RunnerRuns();
        runs.Add(Run(), 100, CancellationToken.None);
        runs.Add(Run(), 100, CancellationToken.None);
        var e = Assert.Throws<InvalidDataException>(() => runs.Named(id, "Done"));
        Assert.Equal($"a Done frame about run {id}, which this runner was never given", e.Message);
    }

    [Fact]
    public void A_frame_about_a_finished_run_is_no_break_but_names_nothing()
    {
        var runs = new RunnerRuns();
        var held = runs.Add(Run(), 100, CancellationToken.None)!;
        Assert.Same(held, runs.Named(1, "Emit"));
        runs.TryTake(1, out _);
        Assert.Null(runs.Named(1, "Emit"));
    }

    [Fact]
    public void Only_runs_at_or_past_their_deadline_are_overdue_with_one_of_their_time_outs()
    {
        var runs = new RunnerRuns();
        runs.Add(Run(timeoutSeconds: 2), deadline: 1_000, CancellationToken.None);
        runs.Add(Run(timeoutSeconds: 2), deadline: 2_000, CancellationToken.None);
        runs.Add(Run(timeoutSeconds: 9), deadline: 3_000, CancellationToken.None);

        Assert.Null(runs.Overdue(now: 999));
        var late = runs.Overdue(now: 2_000)!.Value;
        Assert.Equal([1L, 2L], late.Ids.Order());
        Assert.Equal(TimeSpan.FromSeconds(2), late.Timeout);
    }

    [Fact]
    public void A_closed_runner_refuses_new_runs_and_gives_up_each_held_run_once()
    {
        var runs = new RunnerRuns();
        runs.Add(Run(), 100, CancellationToken.None);
        runs.Add(Run(), 100, CancellationToken.None);
        runs.Close();

        Assert.True(runs.Closed);
        Assert.Null(runs.Add(Run(), 100, CancellationToken.None));
        Assert.Equal([1L, 2L], runs.TakeAll().Select(r => r.Id).Order());
        Assert.Empty(runs.TakeAll());
    }

    public static TheoryData<string, bool, RunOutcome, string> HeldRunRows => new()
    {
        // kill reason (RunnerExits.ChannelClosed: it died on its own), overdue, outcome, error
        { RunnerExits.ChannelClosed, false, RunOutcome.Crashed, "runner crashed: stack overflow" },
        { RunnerExits.ChannelClosed, true, RunOutcome.Crashed, "runner crashed: stack overflow" },
        { "idle", false, RunOutcome.Requeue, "the canvas's runner was stopped: idle" },
        { "1 run(s) passed WORKQ_HANDLER_TIMEOUT_SECONDS", true, RunOutcome.TimedOut,
            "The handler ran longer than 3 s (WORKQ_HANDLER_TIMEOUT_SECONDS) and was stopped by killing its canvas's "
            + "runner process (it ignored its CancellationToken)." },
        { "1 run(s) passed WORKQ_HANDLER_TIMEOUT_SECONDS", false, RunOutcome.Requeue,
            "the canvas's runner was stopped: 1 run(s) passed WORKQ_HANDLER_TIMEOUT_SECONDS" },
    };

    [Theory]
    [MemberData(nameof(HeldRunRows))]
    public void A_run_held_when_its_runner_ended_ends_by_why_the_runner_ended(string killReason, bool overdue,
        RunOutcome outcome, string error)
    {
        var end = new RunnerEnd(killReason, null, StackOverflow: true, OutOfMemory: false, [], 134, 512);
        var exit = RunnerExits.Describe(end, TimeSpan.FromMinutes(1));
        var held = RunnerExits.HeldRunOutcome(exit, overdue, TimeSpan.FromSeconds(3));
        Assert.Equal(outcome, held.Outcome);
        Assert.Equal(error, held.ErrorMessage);
    }

    [Fact]
    public void A_protocol_break_is_the_error_of_the_runs_it_held_as_it_is()
    {
        var end = new RunnerEnd(RunnerExits.ChannelClosed, "a second Ready frame", false, false, [], 0, 512);
        var exit = RunnerExits.Describe(end, TimeSpan.Zero);
        var held = RunnerExits.HeldRunOutcome(exit, overdue: false, TimeSpan.FromSeconds(3));
        Assert.Equal(RunOutcome.Crashed, held.Outcome);
        Assert.Equal($"{RunnerProtocol.BrokeProtocol}: a second Ready frame", held.ErrorMessage);
    }

    [Fact]
    public void Stderr_keeps_the_first_twelve_lines_cut_to_500_characters_and_notes_the_crash_clues_in_any_line()
    {
        var stderr = new RunnerStderr();
        stderr.Add(null);
        stderr.Add("");
        stderr.Add(new string('x', 600));
        for (var i = 0; i < 20; i++) stderr.Add($"   at Frame{i}");
        stderr.Add("Stack overflow.");
        stderr.Add("System.OutOfMemoryException");

        var (lines, stackOverflow, outOfMemory) = stderr.Seen();
        Assert.Equal(12, lines.Length);
        Assert.Equal(500, lines[0].Length);
        Assert.Equal("   at Frame10", lines[^1]);
        Assert.True(stackOverflow);
        Assert.True(outOfMemory);
    }
}
