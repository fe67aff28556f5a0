using Workq.Shared.Scheduling;

namespace Workq.UnitTests.Scheduling;

/// <summary>Five-field cron parsing, its conversion to Quartz, and tick computation (all UTC).</summary>
public sealed class CronScheduleTests
{
    // A Wednesday.
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CronSchedule Parse(string text)
    {
        Assert.True(CronSchedule.TryParse(text, out var schedule, out var error), $"'{text}' should parse: {error}");
        return schedule!;
    }

    private static string Error(string text)
    {
        Assert.False(CronSchedule.TryParse(text, out var schedule, out var error), $"'{text}' should not parse");
        Assert.Null(schedule);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    private static List<DateTimeOffset> Ticks(string text, int count, DateTimeOffset? from = null)
    {
        var schedule = Parse(text);
        var ticks = new List<DateTimeOffset>();
        var t = from ?? Start;
        for (var i = 0; i < count; i++) ticks.Add(t = schedule.NextAfter(t));
        return ticks;
    }

    private static DateTimeOffset At(int month, int day, int hour = 0, int minute = 0, int year = 2025)
        => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("* * * * *", "0 * * * * ?")]
    [InlineData("*/15 * * * *", "0 0,15,30,45 * * * ?")]
    [InlineData("0 9-17 * * 1-5", "0 0 9,10,11,12,13,14,15,16,17 ? * 2,3,4,5,6")]
    [InlineData("1,15,30 * * * *", "0 1,15,30 * * * ?")]
    [InlineData("0-30/10 * * * *", "0 0,10,20,30 * * * ?")]
    [InlineData("0 0 * * MON-FRI", "0 0 0 ? * 2,3,4,5,6")]
    [InlineData("0 0 1 JAN *", "0 0 0 1 1 ?")]
    [InlineData("0 0 * * 0", "0 0 0 ? * 1")]
    [InlineData("0 0 * * 7", "0 0 0 ? * 1")]
    [InlineData("0 0 * * 0-7", "0 0 0 * * ?")]
    [InlineData("0 0 1 * 1", "0 0 0 1 * 2")]
    [InlineData("  5   4 * * sun ", "0 5 4 ? * 1")]
    [InlineData("@hourly", "0 0 * * * ?")]
    [InlineData("@daily", "0 0 0 * * ?")]
    [InlineData("@weekly", "0 0 0 ? * 1")]
    [InlineData("@yearly", "0 0 0 1 1 ?")]
    public void Converts_five_fields_to_the_quartz_form(string text, string quartz)
        => Assert.Equal(quartz, Parse(text).QuartzExpression);

    [Fact]
    public void Keeps_the_expression_as_written_trimmed()
        => Assert.Equal("*/5 * * * *", Parse("  */5 * * * * ").Expression);

    [Fact]
    public void Every_fifteen_minutes() =>
        Assert.Equal([At(1, 1, 0, 15), At(1, 1, 0, 30), At(1, 1, 0, 45), At(1, 1, 1, 0)], Ticks("*/15 * * * *", 4));

    [Fact]
    public void Steps_in_a_range() =>
        Assert.Equal([At(1, 1, 0, 10), At(1, 1, 0, 20), At(1, 1, 0, 30), At(1, 1, 1, 0)], Ticks("0-30/10 * * * *", 4));

    [Fact]
    public void A_start_with_a_step_runs_to_the_end_of_the_field() =>
        Assert.Equal([At(1, 1, 0, 50), At(1, 1, 1, 5)], Ticks("5/45 * * * *", 2, At(1, 1, 0, 5)));

    [Fact]
    public void Weekdays_by_name() =>
        // Wed 1 Jan 2025: Thursday, Friday, then Monday.
        Assert.Equal([At(1, 1, 9), At(1, 2, 9), At(1, 3, 9), At(1, 6, 9)], Ticks("0 9 * * MON-FRI", 4));

    [Theory]
    [InlineData("0 0 * * 0")]
    [InlineData("0 0 * * 7")]
    [InlineData("0 0 * * SUN")]
    [InlineData("0 0 * * sun")]
    public void Day_of_week_0_and_7_are_sunday(string text)
    {
        var ticks = Ticks(text, 3);
        Assert.All(ticks, t => Assert.Equal(DayOfWeek.Sunday, t.DayOfWeek));
        Assert.Equal(At(1, 5), ticks[0]);
    }

    [Fact]
    public void Each_weekday_number_is_that_day() =>
        Assert.All(
            Enumerable.Range(1, 6),
            n => Assert.Equal((DayOfWeek)n, Parse($"0 0 * * {n}").NextAfter(Start).DayOfWeek));

    [Fact]
    public void A_weekday_range_ending_in_7_includes_sunday() =>
        Assert.Equal(
            [DayOfWeek.Friday, DayOfWeek.Saturday, DayOfWeek.Sunday, DayOfWeek.Friday],
            Ticks("0 0 * * 5-7", 4).Select(t => t.DayOfWeek));

    [Fact]
    public void Months_by_name_and_lists_of_days() =>
        Assert.Equal([At(3, 1), At(3, 15), At(6, 1), At(6, 15), At(3, 1, year: 2026)], Ticks("0 0 1,15 MAR,jun *", 5));

    [Fact]
    public void Both_day_fields_restricted_means_either_as_in_posix_cron() =>
        // The 1st of the month or any Monday.
        Assert.Equal([At(1, 6), At(1, 13), At(1, 20), At(1, 27), At(2, 1), At(2, 3)], Ticks("0 0 1 * MON", 6));

    [Fact]
    public void A_stepped_day_of_month_is_restricted_too() =>
        // Odd days or Mondays (Vixie cron would read '*/2' as unrestricted; POSIX and Quartz do not).
        Assert.Equal([At(1, 3), At(1, 5), At(1, 6), At(1, 7)], Ticks("0 0 */2 * 1", 4));

    [Fact]
    public void Leap_day_fires_in_leap_years_only() =>
        Assert.Equal([At(2, 29, year: 2028), At(2, 29, year: 2032)], Ticks("0 0 29 2 *", 2));

    [Fact]
    public void Next_is_strictly_after_and_never_early()
    {
        var schedule = Parse("* * * * *");
        Assert.Equal(At(1, 1, 12, 1), schedule.NextAfter(At(1, 1, 12, 0)));
        Assert.Equal(At(1, 1, 12, 1), schedule.NextAfter(At(1, 1, 12, 0).AddMilliseconds(500)));
        Assert.Equal(At(1, 1, 12, 0), schedule.NextAfter(At(1, 1, 12, 0).AddMilliseconds(-1)));
    }

    [Fact]
    public void Latest_due_is_the_last_tick_not_after_now()
    {
        var every5 = Parse("*/5 * * * *");
        Assert.Equal(At(1, 1, 3, 55), every5.LatestDue(At(1, 1, 0, 5), At(1, 1, 3, 59)));
        Assert.Equal(At(1, 1, 0, 5), every5.LatestDue(At(1, 1, 0, 5), At(1, 1, 0, 5)));
        Assert.Null(every5.LatestDue(At(1, 1, 0, 5), At(1, 1, 0, 4)));
        Assert.Null(every5.LatestDue(At(1, 1, 0, 6), At(1, 1, 0, 9)));
        // Years of downtime are a few steps, not one per missed tick.
        var minutely = Parse("* * * * *");
        Assert.Equal(
            At(6, 1, 12, 30, year: 2031),
            minutely.LatestDue(At(1, 1), At(6, 1, 12, 30, year: 2031).AddSeconds(59)));
        Assert.Equal(At(1, 1, year: 2031), Parse("@yearly").LatestDue(At(1, 1, year: 2026), At(7, 1, year: 2031)));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("* * * *", "five fields")]
    [InlineData("0 * * * * *", "five fields")]
    [InlineData("0 0 12 * * ? 2025", "five fields")]
    [InlineData("60 * * * *", "minute field")]
    [InlineData("* 24 * * *", "hour field")]
    [InlineData("* * 0 * *", "day-of-month field")]
    [InlineData("* * 32 * *", "day-of-month field")]
    [InlineData("* * * 13 *", "month field")]
    [InlineData("* * * * 8", "day-of-week field")]
    [InlineData("* * * FOO *", "'FOO' is not a month value")]
    [InlineData("* * * * MON-FOO", "day-of-week field")]
    [InlineData("*/0 * * * *", "step")]
    [InlineData("*/61 * * * *", "step")]
    [InlineData("*/x * * * *", "step")]
    [InlineData("1/2/3 * * * *", "more than one '/'")]
    [InlineData("1-2-3 * * * *", "more than one '-'")]
    [InlineData("1,,2 * * * *", "empty list item")]
    [InlineData("30-10 * * * *", "backwards")]
    [InlineData("0 0 * * FRI-MON", "backwards")]
    [InlineData("-5 * * * *", "minute field")]
    [InlineData("0 0 ? * MON", "day-of-month field")]
    [InlineData("0 0 L * *", "day-of-month field")]
    [InlineData("0 0 15W * *", "day-of-month field")]
    [InlineData("0 0 * * 5#3", "day-of-week field")]
    [InlineData("H * * * *", "minute field")]
    [InlineData("0 0 30 2 *", "never fires")]
    [InlineData("0 0 31 4,6,9,11 *", "never fires")]
    [InlineData("@reboot", "Unknown macro")]
    [InlineData("@every 5m", "Unknown macro")]
    public void Rejects_with_a_clear_error(string text, string expected) => Assert.Contains(expected, Error(text));

    [Fact]
    public void Errors_say_what_is_allowed()
    {
        var error = Error("61 * * * *");
        Assert.Contains("61 is out of range", error);
        Assert.Contains("0-59", error);
        Assert.Contains("SUN,MON", Error("* * * * X"));
        Assert.Contains("has 6", Error("0 */5 * * * *"));
    }

    [Fact]
    public void Refuses_overlong_input()
        => Assert.Contains("longer than", Error(string.Join(' ', Enumerable.Repeat("1,2,3,4,5", 30))));

    [Fact]
    public void An_impossible_day_is_fine_when_a_weekday_can_match() =>
        Assert.Equal(DayOfWeek.Monday, Parse("0 0 30 2 MON").NextAfter(Start).DayOfWeek);
}
