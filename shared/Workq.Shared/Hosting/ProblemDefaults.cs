using Microsoft.AspNetCore.Http;

namespace Workq.Shared.Hosting;

/// <summary>What every problem body carries even when its writer left it out: a type and a detail (API.md).</summary>
public static class ProblemDefaults
{
    private static readonly Dictionary<int, string> Sections = new()
    {
        [400] = "rfc9110#section-15.5.1",
        [401] = "rfc9110#section-15.5.2",
        [403] = "rfc9110#section-15.5.4",
        [404] = "rfc9110#section-15.5.5",
        [405] = "rfc9110#section-15.5.6",
        [406] = "rfc9110#section-15.5.7",
        [408] = "rfc9110#section-15.5.9",
        [409] = "rfc9110#section-15.5.10",
        [411] = "rfc9110#section-15.5.12",
        [412] = "rfc9110#section-15.5.13",
        [413] = "rfc9110#section-15.5.14",
        [414] = "rfc9110#section-15.5.15",
        [415] = "rfc9110#section-15.5.16",
        [417] = "rfc9110#section-15.5.18",
        [422] = "rfc9110#section-15.5.21",
        [426] = "rfc9110#section-15.5.22",
        [429] = "rfc6585#section-4",
        [431] = "rfc6585#section-5",
        [500] = "rfc9110#section-15.6.1",
        [501] = "rfc9110#section-15.6.2",
        [502] = "rfc9110#section-15.6.3",
        [503] = "rfc9110#section-15.6.4",
        [504] = "rfc9110#section-15.6.5",
        [505] = "rfc9110#section-15.6.6",
    };

    public static void Apply(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        var status = problem.Status ?? http.Response.StatusCode;
        problem.Type ??= TypeFor(status);
        problem.Detail ??= status switch
        {
            StatusCodes.Status404NotFound when http
                .GetEndpoint() is null => $"There is no route {http.Request.Method} {http.Request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Path} does not take {http.Request.Method}; it " +
                $"takes {http.Response.Headers.Allow}.",
            _ => null,
        };
    }

    /// <summary>
    /// The RFC section for a status, in the style ASP.NET Core uses for the statuses it knows, so that statuses it
    /// leaves untyped (413, 414, 431, ...) carry one too; "about:blank" (RFC 9457's default) otherwise.
    /// </summary>
    public static string TypeFor(int status)
        => Sections.TryGetValue(status, out var section) ? "https://tools.ietf.org/html/" + section : "about:blank";
}
