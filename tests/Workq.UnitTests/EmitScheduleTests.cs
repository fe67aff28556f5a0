using Workq.Shared.Handlers.Isolation;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.UnitTests;

/// <summary>The rules of a delayed emit, and the emit frame that carries a handler's delay from its runner.</summary>
public sealed class EmitScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_delay_or_a_future_time_is_when_it_runs_and_zero_or_a_past_time_runs_now()
    {
        Assert.Equal(Now.AddSeconds(5), EmitSchedule.Resolve(TimeSpan.FromSeconds(5), null, Now, "delay", "runAt").At);
        Assert.Equal(Now.AddDays(30), EmitSchedule.Resolve(null, Now.AddDays(30), Now, "delay", "runAt").At);
        Assert.All([EmitSchedule.Resolve(TimeSpan.Zero, null, Now, "delay", "runAt"), EmitSchedule.Resolve(
            null,
            Now.AddMinutes(-1),
            Now,
            "delay",
            "runAt"),
            EmitSchedule.Resolve(null, null, Now, "delay", "runAt")], now => Assert.True(
                now.At is null && now.Problem is null));
    }

    [Theory]
    [InlineData(-1.0, null, "\"delay\" must not be negative")]
    [InlineData(2_592_001.0, null, "more than 30 days")]
    [InlineData(null, 31.0, "\"runAt\" is more than 30 days ahead")]
    [InlineData(1.0, 1.0, "not both")]
    public void Past_the_bounds_or_both_at_once_is_a_problem_naming_the_field(
        double? delaySeconds,
        double? runAtDays,
        string problem)
    {
        var (at, error) = EmitSchedule.Resolve(
            delaySeconds is { } s ? TimeSpan.FromSeconds(s) : null,
            runAtDays is { } d ? Now.AddDays(d) : null,
            Now,
            "delay",
            "runAt");
        Assert.Null(at);
        Assert.Contains(problem, error);
    }

    [Fact]
    public async Task The_emit_frame_carries_a_delay_or_a_time_and_a_hostile_time_is_refused_on_read()
    {
        var written = new MemoryStream();
        var output = new FrameOutput(written);
        EmitOptions[] sent = [EmitOptions.Now, new(TimeSpan.FromSeconds(2.5), null), new(null, Now
            .AddHours(1)), new(null, null, "cart-9")];
        foreach (var when in sent) new EmitFrame(1, 1, "w", "{}"u8.ToArray(), when).Write(output);
        using (var hostile = output.Begin(EmitFrame.Type))
        {
            hostile.Long(1);
            hostile.Int(1);
            hostile.String("w");
            hostile.Bytes("{}"u8);
            hostile.Byte(2);
            hostile.Long(0);
            hostile.Long(long.MaxValue);
            hostile.String(null);
            hostile.String(null);
            hostile.String(null);
        }
        await output.DisposeAsync();

        var input = new FrameInput(new MemoryStream(written.ToArray()));
        foreach (var when in sent)
        {
            var frame = (await input.ReadAsync(CancellationToken.None))!.Value;
            Assert.Equal(when, EmitFrame.Read(frame.Payload.Span).Options);
        }
        var bad = (await input.ReadAsync(CancellationToken.None))!.Value;
        var refused = Assert.Throws<InvalidDataException>(() => EmitFrame.Read(bad.Payload.Span));
        Assert.Contains("run-at", refused.Message);
    }
}
