using Microsoft.Extensions.Configuration;
using Workq.Shared.Configuration;

namespace Workq.UnitTests;

/// <summary>
/// The quota settings: WORKQ_CANVAS_EMIT_RATE's format, and the defaults of the per-event and per-queue limits.
/// </summary>
public sealed class QuotaSettingsTests
{
    [Theory]
    [InlineData("500", 500, 1, 500)]
    [InlineData("500/s", 500, 1, 500)]
    [InlineData("500/s,burst=1000", 500, 1, 1000)]
    [InlineData(" 20 / S , Burst = 5 ", 20, 1, 5)]
    [InlineData("600/m", 600, 60, 600)]
    [InlineData("3/m,burst=10", 3, 60, 10)]
    [InlineData("7,burst=2", 7, 1, 2)]
    public void A_rate_parses_to_events_per_period_and_a_burst(string text, int events, int periodSeconds, int burst) =>
        Assert.Equal(new EmitRate(events, TimeSpan.FromSeconds(periodSeconds), burst), EmitRate.Parse(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void No_rate_means_no_limit(string? text) => Assert.Null(EmitRate.Parse(text));

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("500/h")]
    [InlineData("500/s,burst=0")]
    [InlineData("500/s,burst=")]
    [InlineData("500/s,bursts=10")]
    [InlineData("1.5/s")]
    [InlineData("fast")]
    [InlineData("99999999999")]
    [InlineData("500/s,burst=10,burst=20")]
    public void Anything_else_is_refused_naming_the_variable_and_the_format(string text)
    {
        var error = Assert.Throws<InvalidOperationException>(() => EmitRate.Parse(text));
        Assert.Contains("WORKQ_CANVAS_EMIT_RATE", error.Message);
        Assert.Contains("burst=", error.Message);
        Assert.Contains(text, error.Message);
    }

    [Theory]
    [InlineData("500/s,burst=1000")]
    [InlineData("3/m,burst=10")]
    public void A_rate_is_written_back_as_it_parses(string text)
        => Assert.Equal(text, EmitRate.Parse(text)!.ToString());

    [Fact]
    public void The_limits_default_to_a_thousand_emits_a_million_queued_and_no_rate()
    {
        var options = EmitLimits.From(new ConfigurationBuilder().Build());
        Assert.Equal(1_000, options.MaxEmitsPerEvent);
        Assert.Equal(1_000_000, options.MaxQueuedPerWorker);
        Assert.Null(options.CanvasEmitRate);
    }

    [Fact]
    public void The_limits_are_read_from_their_variables()
    {
        var options = EmitLimits.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WORKQ_MAX_EMITS_PER_EVENT"] = "20",
            ["WORKQ_MAX_QUEUED_PER_WORKER"] = "50",
            ["WORKQ_CANVAS_EMIT_RATE"] = "5/s,burst=8",
        }).Build());
        Assert.Equal(20, options.MaxEmitsPerEvent);
        Assert.Equal(50, options.MaxQueuedPerWorker);
        Assert.Equal(new EmitRate(5, TimeSpan.FromSeconds(1), 8), options.CanvasEmitRate);
    }
}
