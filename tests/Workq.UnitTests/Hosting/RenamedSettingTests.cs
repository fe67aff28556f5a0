using Workq.Shared.Configuration;
using Workq.UnitTests.Poison;
using static Workq.UnitTests.Hosting.Variables;

namespace Workq.UnitTests.Hosting;

/// <summary>Renamed WORKQ_* variables: the old name still sets the value, with a warning.</summary>
public sealed class RenamedSettingTests
{
    private static readonly Dictionary<string, Func<WorkqOptions, TimeSpan>> Durations = new()
    {
        ["handler timeout"] = options => options.Handlers.HandlerTimeout,
        ["compile timeout"] = options => options.Compiler.CompileTimeout,
        ["minute metrics retention"] = options => options.Retention.MetricsMinuteRetention,
        ["hour metrics retention"] = options => options.Retention.MetricsHourRetention,
        ["event status retention"] = options => options.EventStatus.Retention,
        ["reconcile interval"] = options => options.Pool.ReconcileInterval,
    };

    [Theory]
    [InlineData("WORKQ_HANDLER_TIMEOUT", "handler timeout", 7)]
    [InlineData("WORKQ_HANDLER_TIMEOUT_SECONDS", "handler timeout", 7)]
    [InlineData("WORKQ_COMPILE_TIMEOUT", "compile timeout", 7)]
    [InlineData("WORKQ_COMPILE_TIMEOUT_SECONDS", "compile timeout", 7)]
    [InlineData("WORKQ_METRICS_RETENTION_MINUTES_HOURS", "minute metrics retention", 7 * 3600)]
    [InlineData("WORKQ_METRICS_MINUTE_RETENTION_HOURS", "minute metrics retention", 7 * 3600)]
    [InlineData("WORKQ_METRICS_RETENTION_HOURS_DAYS", "hour metrics retention", 7 * 86400)]
    [InlineData("WORKQ_METRICS_HOUR_RETENTION_DAYS", "hour metrics retention", 7 * 86400)]
    [InlineData("WORKQ_EVENT_STATUS_HOURS", "event status retention", 7 * 3600)]
    [InlineData("WORKQ_EVENT_STATUS_RETENTION_HOURS", "event status retention", 7 * 3600)]
    [InlineData("WORKQ_RECONCILE_SECONDS", "reconcile interval", 7)]
    [InlineData("WORKQ_RECONCILE_INTERVAL_SECONDS", "reconcile interval", 7)]
    public void A_duration_is_read_under_its_new_or_its_old_name(string name, string duration, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations[duration](Options((name, "7"))));

    [Fact]
    public void The_new_name_wins_over_the_old()
    {
        var options = Options(("WORKQ_HANDLER_TIMEOUT", "5"), ("WORKQ_HANDLER_TIMEOUT_SECONDS", "20"));
        Assert.Equal(TimeSpan.FromSeconds(20), options.Handlers.HandlerTimeout);
    }

    [Fact]
    public void Neither_name_keeps_the_default() =>
        Assert.Equal(TimeSpan.FromSeconds(60), Options().Handlers.HandlerTimeout);

    [Theory]
    [InlineData("WORKQ_HANDLER_TIMEOUT")]
    [InlineData("WORKQ_HANDLER_TIMEOUT_SECONDS")]
    [InlineData("WORKQ_METRICS_RETENTION_HOURS_DAYS")]
    [InlineData("WORKQ_METRICS_HOUR_RETENTION_DAYS")]
    public void A_bad_value_is_refused_naming_the_variable_that_was_set(string name)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Options((name, "soon")));
        Assert.StartsWith($"{name} must be a positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_old_name_no_warning() =>
        Assert.Empty(RenamedSetting.Warnings(Config(("WORKQ_HANDLER_TIMEOUT_SECONDS", "5"), ("WORKQ_PORT", "1"))));

    [Fact]
    public void An_old_name_alone_warns_naming_the_old_and_the_new_variable()
    {
        var warning = Assert.Single(RenamedSetting.Warnings(Config(("WORKQ_METRICS_RETENTION_MINUTES_HOURS", "12"))));
        Assert.Equal(
            "WORKQ_METRICS_RETENTION_MINUTES_HOURS was renamed WORKQ_METRICS_MINUTE_RETENTION_HOURS: "
            + "the old name works in this release only; rename it.", warning);
    }

    [Fact]
    public void An_old_name_beside_its_new_one_warns_that_it_is_ignored()
    {
        var config = Config(("WORKQ_COMPILE_TIMEOUT", "3"), ("WORKQ_COMPILE_TIMEOUT_SECONDS", "4"));
        var warning = Assert.Single(RenamedSetting.Warnings(config));
        Assert.Equal(
            "WORKQ_COMPILE_TIMEOUT is ignored: it was renamed WORKQ_COMPILE_TIMEOUT_SECONDS, which is set too; "
            + "remove WORKQ_COMPILE_TIMEOUT.", warning);
    }

    [Fact]
    public void Each_old_name_in_use_is_logged_once_as_a_warning()
    {
        var log = new LogRecorder();
        RenamedSetting.LogWarnings(Config(("WORKQ_HANDLER_TIMEOUT", "5"), ("WORKQ_COMPILE_TIMEOUT", "3")), log);
        Assert.Equal(2, log.Lines.Count);
        Assert.Equal(
            [
                "Warning: Renamed setting: WORKQ_HANDLER_TIMEOUT was renamed WORKQ_HANDLER_TIMEOUT_SECONDS: "
                    + "the old name works in this release only; rename it.",
                "Warning: Renamed setting: WORKQ_COMPILE_TIMEOUT was renamed WORKQ_COMPILE_TIMEOUT_SECONDS: "
                    + "the old name works in this release only; rename it.",
            ],
            log.Lines);
    }

    [Fact]
    public void Every_new_name_is_one_the_options_read()
    {
        // A rename whose new name nobody reads would silently drop the operator's value.
        foreach (var renamed in RenamedSetting.All)
        {
            var error = Assert.Throws<InvalidOperationException>(() => Options((renamed.NewName, "-1")));
            Assert.Contains(renamed.NewName, error.Message, StringComparison.Ordinal);
        }
    }
}
