using Workq.Control.Apis;

namespace Workq.UnitTests.Input;

/// <summary>
/// The dead-letter search filters (API.md "Dead-letter search"): each bad one is a 400 naming it, the good ones make
/// the filter.
/// </summary>
public sealed class DeadLetterQueryTests
{
    [Fact]
    public void No_parameters_select_every_dead_letter()
    {
        Assert.Null(new DeadLetterQuery(null, null, null, null).Parse(out var filter));
        Assert.Equal(new Workq.Shared.Storage.DeadLetterFilter(), filter);
    }

    [Fact]
    public void Each_parameter_is_its_field_of_the_filter_and_a_date_without_an_offset_is_utc()
    {
        Assert.Null(
            new DeadLetterQuery("timeout", "retries", "2026-01-31", "2026-02-01T12:00:00+01:00").Parse(out var filter));
        Assert.Equal("timeout", filter.Q);
        Assert.Equal("retries", filter.Reason);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 0, 0, 0, TimeSpan.Zero), filter.From);
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 11, 0, 0, TimeSpan.Zero), filter.To);
    }

    [Theory]
    [InlineData("", null, null, null, "\"q\" must be given once, 1 to 500 characters.")]
    [InlineData(null, "", null, null, "\"reason\" must be given once, 1 to 500 characters.")]
    [InlineData(null, "501", null, null, "\"reason\" must be given once, 1 to 500 characters.")]
    [InlineData(
        null,
        null,
        "1/2/2026",
        null,
        "\"from\" must be an ISO 8601 date or date and time, such as 2026-01-31T12:00:00Z.")]
    [InlineData(
        null,
        null,
        null,
        "2026-13-01",
        "\"to\" must be an ISO 8601 date or date and time, such as 2026-01-31T12:00:00Z.")]
    [InlineData(null, null, "2026-02-01", "2026-01-31", "\"from\" must not be after \"to\".")]
    public void A_bad_parameter_is_a_400_naming_it(string? q, string? reason, string? from, string? to, string detail)
    {
        // "501" stands for a text of 501 characters.
        var problem = new DeadLetterQuery(q, reason == "501" ? new string('r', 501) : reason, from, to).Parse(out _);
        Assert.NotNull(problem);
        Assert.Equal(400, problem.StatusCode);
        Assert.Equal(detail, problem.ProblemDetails.Detail);
    }

    [Fact]
    public void A_search_text_of_500_characters_is_taken() =>
        Assert.Null(new DeadLetterQuery(new string('q', 500), null, null, null).Parse(out _));
}
