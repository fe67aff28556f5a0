using Workq.Control.Apis;

namespace Workq.UnitTests.Input;

/// <summary>
/// The quarantine's filters (API.md "Quarantine"): any source text of 1 to 255 characters, and a valid canvas name.
/// </summary>
public sealed class QuarantineQueryTests
{
    [Fact]
    public void The_parameters_make_the_filter()
    {
        Assert.Null(new QuarantineQuery("crons", "acme").Parse(out var filter));
        Assert.Equal(("crons", "acme"), (filter.Source, filter.Canvas));
        Assert.Null(new QuarantineQuery(null, null).Parse(out var all));
        Assert.Equal((null, null), (all.Source, all.Canvas));
    }

    [Theory]
    [InlineData("", null, "\"source\" must be given once, 1 to 255 characters.")]
    [InlineData("256", null, "\"source\" must be given once, 1 to 255 characters.")]
    [InlineData(null, "Not A Name", "Invalid canvas name 'Not A Name'")]
    [InlineData(null, "", "Invalid canvas name ''")]
    public void A_bad_parameter_is_a_400_naming_it(string? source, string? canvas, string detail)
    {
        var problem = new QuarantineQuery(source == "256" ? new string('s', 256) : source, canvas).Parse(out _);
        Assert.NotNull(problem);
        Assert.Equal(400, problem.StatusCode);
        Assert.StartsWith(detail, problem.ProblemDetails.Detail);
    }
}
