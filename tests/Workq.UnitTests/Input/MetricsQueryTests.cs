using Workq.Control.Apis;
using Workq.Shared.Configuration;

namespace Workq.UnitTests.Input;

/// <summary>
/// The metrics routes' query (API.md "Metrics"): defaults, the two steps, ISO 8601 times, and ranges no longer than
/// what is kept.
/// </summary>
public sealed class MetricsQueryTests
{
    private static readonly DateTime Now = new(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc);
    private static readonly RetentionOptions Options =
        new() { MetricsMinuteRetention = TimeSpan.FromHours(48), MetricsHourRetention = TimeSpan.FromDays(30) };

    private static (MetricsApi.Range Range, string? Problem) Parse(string? from, string? to, string? step) =>
        MetricsApi.Parse(new MetricsQuery(from, to, step), Options, Now);

    [Fact]
    public void Without_parameters_it_is_the_last_hour_by_the_minute_and_at_step_3600_the_last_day()
    {
        Assert.Equal((new MetricsApi.Range(Now.AddHours(-1), Now, 60), (string?)null), Parse(null, null, null));
        Assert.Equal((new MetricsApi.Range(Now.AddDays(-1), Now, 3600), (string?)null), Parse(null, null, "3600"));
        var to = new DateTime(2026, 11, 23, 10, 0, 0, DateTimeKind.Utc);
        Assert.Equal(new MetricsApi.Range(to.AddHours(-1), to, 60), Parse(null, "2026-11-23T10:00:00Z", null).Range);
    }

    [Theory]
    [InlineData("2026-11-23T11:00:00Z", "2026-11-23T12:00:00Z", "60")]
    [InlineData("2026-11-23T12:00:00+01:00", "2026-11-23T12:00:00", null)] // an offset counts; none is UTC
    [InlineData("2026-11-22T00:00:00Z", "2026-11-23T12:00:00Z", "3600")]
    public void Iso_times_within_the_retention_of_their_step_are_taken(string from, string to, string? step)
    {
        var (range, problem) = Parse(from, to, step);
        Assert.Null(problem);
        Assert.Equal(DateTimeKind.Utc, range.From.Kind);
        Assert.True(range.From <= range.To);
    }

    [Theory]
    [InlineData(null, null, "120", "\"step\" must be 60 or 3600 (seconds), not '120'.")]
    [InlineData(null, null, "+60", "\"step\" must be 60 or 3600 (seconds), not '+60'.")]
    [InlineData(null, null, "", "\"step\" must be 60 or 3600 (seconds), not ''.")]
    [InlineData(
        null,
        "2026-11-23",
        null,
        "\"to\" must be an ISO 8601 time such as 2026-11-23T12:00:00Z, not '2026-11-23'.")]
    [InlineData(
        "yesterday",
        null,
        null,
        "\"from\" must be an ISO 8601 time such as 2026-11-23T12:00:00Z, not 'yesterday'.")]
    [InlineData("1970-01-01T00:00:00Z", null, null,
        "\"from\" must be an ISO 8601 time such as 2026-11-23T12:00:00Z, not '1970-01-01T00:00:00Z'.")]
    [InlineData("2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", null,
        "\"from\" (2026-11-23T12:00:00.0000000Z) is after \"to\" (2026-11-23T11:00:00.0000000Z).")]
    public void A_bad_parameter_is_a_problem_naming_it(string? from, string? to, string? step, string expected) =>
        Assert.Equal(expected, Parse(from, to, step).Problem);

    [Theory]
    [InlineData("60", 48, false)]
    [InlineData("60", 49, true)]
    [InlineData("3600", 30 * 24, false)]
    [InlineData("3600", 30 * 24 + 1, true)]
    public void A_range_longer_than_its_step_keeps_is_refused(string step, int hours, bool refused)
    {
        var problem = Parse(Now.AddHours(-hours).ToString("O"), Now.ToString("O"), step).Problem;
        Assert.Equal(refused, problem is not null);
        if (refused) Assert.Contains("WORKQ_METRICS_*_RETENTION_*", problem);
    }
}
