using System.Text;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;

namespace Workq.UnitTests.Scripting;

/// <summary>
/// Durable handlers as handler code sees them (API.md "Durable handlers"), each run a new set of globals over one
/// event's kept state (a fake of the worker's store): steps memoized by name and occurrence, replayed without running,
/// nothing kept for a step that threw; Sleep and WaitFor ending the run and returning once due; one load per run.
/// </summary>
public sealed class DurableStepsTests
{
    private const string Workflow = """
        var charged = await Step("charge", async () => { await Emit("ledger", 1); return 42; });
        await Step("notify", async () => { await Emit("mail", charged); });
        await Sleep(TimeSpan.FromHours(1));
        var shipped = await WaitFor("shipped", TimeSpan.FromDays(3));
        return new { charged, shipped };
        """;

    [Fact]
    public async Task A_workflow_runs_each_step_once_sleeps_waits_and_ends_with_the_signal()
    {
        using var handler = Scripts.CompileOrFail(Workflow);
        var state = new FakeEmitter();

        // Run 1: both steps run, then the sleep ends the run.
        var first = Scripts.Globals(null, state);
        var slept = await Assert.ThrowsAsync<HandlerSuspendedException>(() => handler.RunAsync(first));
        Assert.Equal(SuspensionKind.Sleep, first.Suspended!.Value.Kind);
        Assert.InRange(first.Suspended.Value.Until - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(59),
            TimeSpan.FromHours(1));
        Assert.Equal(slept.Suspension, first.Suspended);
        Assert.Equal(["ledger", "mail"], state.Emits.Select(e => e.Worker));
        Assert.Equal(["step:charge#1", "step:notify#1"], state.Steps.Keys.Order());
        Assert.Equal(["charge", "notify", "Sleep#1"], first.StepTraces.Select(s => s.Name));

        // The worker keeps the sleep's end as the run suspends; its time has come.
        state.Steps["sleep#1"] = HandlerSteps.TimeJson(DateTimeOffset.UtcNow.AddSeconds(-1));
        var second = Scripts.Globals(null, state);
        await Assert.ThrowsAsync<HandlerSuspendedException>(() => handler.RunAsync(second));
        Assert.Equal(new Suspension(SuspensionKind.Wait, "wait:shipped#1", second.Suspended!.Value.Until, "shipped"),
            second.Suspended);
        Assert.Equal(2, state.Emits.Count);
        Assert.All(second.StepTraces.Take(3), s => Assert.True(s.Replayed, s.Name));

        // The signal came: the run ends with it, and nothing ran twice.
        state.Steps["wait:shipped#1"] = "{\"carrier\":\"ups\"}"u8.ToArray();
        var third = Scripts.Globals(null, state);
        var result = await handler.RunAsync(third);
        Assert.Null(third.Suspended);
        Assert.Equal("{\"charged\":42,\"shipped\":{\"carrier\":\"ups\"}}",
            System.Text.Json.JsonSerializer.Serialize(result));
        Assert.Equal(2, state.Emits.Count);
        Assert.Equal(3, state.Loads);
    }

    [Fact]
    public async Task Steps_of_the_same_name_are_kept_apart_by_occurrence_and_a_step_that_threw_keeps_nothing()
    {
        using var handler = Scripts.CompileOrFail("""
            var a = await Step("x", async () => 1);
            var b = await Step("x", async () => Meta.Attempt == 1 ? throw new InvalidOperationException("down") : 2);
            return a + b;
            """);
        var state = new FakeEmitter();

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => handler.RunAsync(Scripts.Globals(null,
            state)));
        Assert.Equal("down", failed.Message);
        Assert.Equal(["step:x#1"], state.Steps.Keys);

        var again = new Workq.Shared.Scripting.HandlerGlobals(default, Scripts.Meta(attempt: 2), state,
            () => Scripts.Http, CancellationToken.None);
        Assert.Equal(3, await handler.RunAsync(again));
        Assert.Equal(["step:x#1", "step:x#2"], state.Steps.Keys.Order());
        Assert.Equal([true, false], again.StepTraces.Select(s => s.Replayed));
    }

    [Fact]
    public async Task A_hundred_steps_replay_from_one_load()
    {
        using var handler = Scripts.CompileOrFail("""
            var sum = 0;
            for (var i = 0; i < 100; i++) sum += await Step("add", async () => i);
            return sum;
            """);
        var state = new FakeEmitter();
        Assert.Equal(4950, await handler.RunAsync(Scripts.Globals(null, state)));
        Assert.Equal(100, state.Steps.Count);

        var replay = Scripts.Globals(null, state);
        Assert.Equal(4950, await handler.RunAsync(replay));
        Assert.Equal(2, state.Loads);
        Assert.All(replay.StepTraces, s => Assert.True(s.Replayed));
    }

    [Fact]
    public async Task An_early_signal_is_taken_by_the_wait_and_a_wait_past_its_time_out_returns_null()
    {
        var state = new FakeEmitter();
        state.Signals["go"] = "[1,2]"u8.ToArray();
        var early = Scripts.Globals(null, state);
        Assert.Equal("[1,2]", (await early.WaitFor("go", TimeSpan.FromMinutes(1)))!.ToJsonString());
        Assert.Empty(state.Signals);
        Assert.Equal("[1,2]", Encoding.UTF8.GetString(state.Steps["wait:go#1"]));

        state.Steps[HandlerSteps.DeadlineKey("wait:late#1")] =
            HandlerSteps.TimeJson(DateTimeOffset.UtcNow.AddSeconds(-1));
        var late = Scripts.Globals(null, state);
        Assert.Null(await late.WaitFor("late", TimeSpan.FromMinutes(1)));
        Assert.Equal("null", Encoding.UTF8.GetString(state.Steps["wait:late#1"]));

        // Its time-out not yet come (woken by something else): it waits on until the first one.
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);
        state.Steps[HandlerSteps.DeadlineKey("wait:later#1")] = HandlerSteps.TimeJson(deadline);
        var later = Scripts.Globals(null, state);
        await Assert.ThrowsAsync<HandlerSuspendedException>(() => later.WaitFor("later", TimeSpan.FromDays(9)));
        Assert.Equal(deadline, later.Suspended!.Value.Until);
    }

    [Fact]
    public async Task Emits_in_a_step_name_it_and_the_others_do_not()
    {
        var state = new FakeEmitter();
        var globals = Scripts.Globals(null, state);
        await globals.Emit("a", 1);
        await globals.Step("s", async () => await globals.Emit("b", 2));
        await globals.Emit("c", 3);

        Assert.Equal([null, "step:s#1", null], state.Options.Select(o => o.Step));
    }

    [Fact]
    public async Task What_a_run_cannot_do_is_refused_naming_why()
    {
        var state = new FakeEmitter { MaxStepBytes = 64 };
        var globals = Scripts.Globals(null, state);

        var nested = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            globals.Step("outer", () => globals.Step("inner", async () => 1)));
        Assert.Contains("do not nest", nested.Message);
        var sleepInStep = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            globals.Step("s", () => globals.Sleep(TimeSpan.FromSeconds(5))));
        Assert.Contains("cannot be inside a step", sleepInStep.Message);
        var large = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            globals.Step("big", async () => new string('x', 100)));
        Assert.Contains("WORKQ_MAX_STEP_BYTES", large.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => globals.Step("bad name", async () => 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => globals.WaitFor("w", TimeSpan.FromDays(31)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => globals.Sleep(TimeSpan.FromDays(31)));
        Assert.DoesNotContain(state.Steps.Keys, k => k.Contains("big", StringComparison.Ordinal));

        // Once suspended, nothing else of the run goes out, even when the handler swallowed the suspension.
        await Assert.ThrowsAsync<HandlerSuspendedException>(() => globals.Sleep(TimeSpan.FromMinutes(1)));
        await Assert.ThrowsAsync<HandlerSuspendedException>(() => globals.Emit("after", 1));
        Assert.Throws<HandlerSuspendedException>(() => globals.Http);
        Assert.Empty(state.Emits);
    }

    [Fact]
    public async Task A_sleep_already_past_returns_at_once_and_keeps_nothing()
    {
        var state = new FakeEmitter();
        var globals = Scripts.Globals(null, state);
        await globals.SleepUntil(DateTimeOffset.UtcNow.AddSeconds(-5));
        await globals.Sleep(TimeSpan.Zero);
        Assert.Null(globals.Suspended);
        Assert.Empty(state.Steps);
    }

    [Theory]
    [InlineData(SuspensionKind.Sleep, "sleep#2", null, 60, null)]
    [InlineData(SuspensionKind.Wait, "wait:go#1", "go", 60, null)]
    [InlineData(SuspensionKind.Sleep, "step:x#1", null, 60, "sleep key 'step:x#1'")]
    [InlineData(SuspensionKind.Sleep, "sleep#1", "go", 60, "sleep key 'sleep#1'")]
    [InlineData(SuspensionKind.Wait, "wait:go#1", "other", 60, "wait key 'wait:go#1'")]
    [InlineData(SuspensionKind.Wait, "wait:a b#1", "a b", 60, "signal name: ' ' is not allowed")]
    [InlineData(SuspensionKind.Sleep, "sleep#1", null, 60 * 24 * 40, "past 30 days")]
    public void A_suspension_a_runner_sends_is_checked_as_a_handler_could_have_made_it(
        SuspensionKind kind, string key, string? name, int minutesAhead, string? problem)
    {
        var now = DateTimeOffset.UtcNow;
        var found = new Suspension(kind, key, now.AddMinutes(minutesAhead), name).Problem(now);
        if (problem is null) Assert.Null(found);
        else Assert.Contains(problem, found, StringComparison.Ordinal);
    }
}
