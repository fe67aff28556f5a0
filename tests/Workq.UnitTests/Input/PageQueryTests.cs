using Microsoft.AspNetCore.Http;
using Workq.Control.Apis;

namespace Workq.UnitTests.Input;

/// <summary>
/// The paging of the dead-letter and quarantine lists: <c>limit</c> 1 to 1000 (default 100), and the next page's
/// headers.
/// </summary>
public sealed class PageQueryTests
{
    [Theory]
    [InlineData(null, 100)]
    [InlineData("1", 1)]
    [InlineData("1000", 1000)]
    public void A_limit_from_1_to_1000_is_the_page_size(string? limit, int expected)
    {
        Assert.Null(new PageQuery(limit, null).ParseLimit(out var size));
        Assert.Equal(expected, size);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("+5")]
    [InlineData(" 5")]
    [InlineData("5.0")]
    [InlineData("")]
    [InlineData("99999999999")]
    public void Any_other_limit_is_a_400_naming_it(string limit)
    {
        var problem = new PageQuery(limit, null).ParseLimit(out _);
        Assert.NotNull(problem);
        Assert.Equal("\"limit\" must be a whole number from 1 to 1000.", problem.ProblemDetails.Detail);
    }

    [Fact]
    public void The_next_page_is_the_same_query_with_the_new_cursor_in_place_of_the_old()
    {
        var http = new DefaultHttpContext();
        http.Request.PathBase = "/base";
        http.Request.Path = "/v1/canvases/c/workers/w/dead-letters";
        http.Request.QueryString = new QueryString("?q=time%20out&cursor=old&limit=5");
        PageQuery.LinkNext(http, "new/+");
        Assert.Equal("new/+", http.Response.Headers["X-Next-Cursor"]);
        Assert.Equal(
            "</base/v1/canvases/c/workers/w/dead-letters?q=time%20out&limit=5&cursor=new%2F%2B>; rel=\"next\"",
            http.Response.Headers.Link);
    }
}
