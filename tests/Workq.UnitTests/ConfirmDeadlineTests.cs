using Microsoft.Extensions.Time.Testing;
using Workq.Shared.Messaging;

namespace Workq.UnitTests;

/// <summary>
/// The publish confirm deadline: one token source a second, shared by that second's publishes, and it fires.
/// </summary>
public sealed class ConfirmDeadlineTests
{
    [Fact]
    public void Publishes_of_one_second_share_a_token_firing_after_the_timeout_and_the_next_second_gets_another()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var deadline = new ConfirmDeadline(TimeSpan.FromMilliseconds(100), clock);
        var first = deadline.Token;
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(first, deadline.Token);
        Assert.False(first.IsCancellationRequested);

        clock.Advance(TimeSpan.FromMilliseconds(100));
        var second = deadline.Token;
        Assert.NotEqual(first, second);
        Assert.False(first.IsCancellationRequested);

        // Timeout + one second after its window opened: the first fires, the second's later.
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(first.IsCancellationRequested);
        Assert.False(second.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(second.IsCancellationRequested);
    }
}
