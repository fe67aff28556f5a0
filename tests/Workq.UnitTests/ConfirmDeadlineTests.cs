using Workq.Shared.Messaging;

namespace Workq.UnitTests;

/// <summary>
/// The publish confirm deadline: one token source a second, shared by that second's publishes, and it fires.
/// </summary>
public sealed class ConfirmDeadlineTests
{
    [Fact]
    public async Task Publishes_of_one_second_share_a_token_firing_after_the_timeout_and_the_next_second_gets_another()
    {
        var deadline = new ConfirmDeadline(TimeSpan.FromMilliseconds(100));
        // Taken at the start of a second, so the two reads fall in the same one.
        while (Environment.TickCount64 % 1000 > 500) await Task.Delay(10);
        var first = deadline.Token;
        Assert.Equal(first, deadline.Token);
        Assert.False(first.IsCancellationRequested);

        var fired = new TaskCompletionSource();
        using var registration = first.Register(fired.SetResult);
        // Timeout + up to one second: it fires well within 5 s.
        await fired.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var second = Environment.TickCount64 / 1000;
        while (Environment.TickCount64 / 1000 == second) await Task.Delay(10);
        Assert.NotEqual(first, deadline.Token);
        Assert.False(deadline.Token.IsCancellationRequested);
    }
}
