using System.Text.RegularExpressions;

namespace Workq.Tests.Integration;

/// <summary>
/// The OpenAPI documents of control and the emitter against docs/API.md: every route of its route tables is in the
/// document of its service with that method, and every status its result cell names is among the operation's responses.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class OpenApiDocumentTests(WorkqCluster cluster)
{
    /// <summary>One route of an API.md table, and the statuses its row names.</summary>
    private sealed record DocumentedRoute(string Method, string Path, bool OnEmitter, IReadOnlySet<string> Statuses, string Row);

    [Fact]
    public async Task Every_route_and_status_of_the_api_reference_is_in_the_openapi_documents()
    {
        var control = await DocumentAsync(cluster.ControlUrl("/openapi/v1.json"));
        var emitter = await DocumentAsync(cluster.EmitUrl("/openapi/v1.json"));
        var routes = DocumentedRoutes(File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "API.md")));
        // A parser that finds nothing would pass vacuously: API.md has over 30 routes, the deploy among them with its codes.
        Assert.True(routes.Count >= 30, $"only {routes.Count} routes parsed from docs/API.md");
        Assert.Contains(routes, r => r is { Method: "PUT", Path: "/v1/canvases/{}/workers/{}" } && r.Statuses.SetEquals(["200", "201", "400", "409", "413", "503"]));
        Assert.Contains(routes, r => r.OnEmitter);

        var missing = new List<string>();
        foreach (var route in routes)
        {
            var (document, service) = route.OnEmitter ? (emitter, "emitter") : (control, "control");
            var operation = Operations(document).GetValueOrDefault((route.Method, route.Path));
            if (operation is null)
            {
                missing.Add($"{route.Method} {route.Path}: not in the {service}'s document ({route.Row})");
                continue;
            }
            var responses = operation["responses"]!.AsObject().Select(r => r.Key).ToHashSet();
            foreach (var status in route.Statuses.Where(s => !responses.Contains(s)))
                missing.Add($"{route.Method} {route.Path}: {status} is not among its responses ({string.Join(", ", responses.Order())}) in the {service}'s document");
        }
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    [Fact]
    public async Task The_api_reference_page_is_served_without_a_token()
    {
        foreach (var url in new[] { cluster.ControlUrl("/scalar/v1"), cluster.EmitUrl("/scalar/v1") })
        {
            using var response = await cluster.SendAsync(HttpMethod.Get, url, token: null);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"GET {url} answered {(int)response.StatusCode}: {body}");
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<html", body, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>The document, fetched without a token: it is public, like /healthz.</summary>
    private async Task<JsonNode> DocumentAsync(Uri url)
    {
        var document = (await cluster.JsonAsync(HttpMethod.Get, url, token: null))!;
        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>());
        return document;
    }

    /// <summary>The operations of a document by method and path, the path's parameter names left out.</summary>
    private static Dictionary<(string Method, string Path), JsonNode> Operations(JsonNode document) =>
        document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject()
                .Where(op => op.Key is "get" or "put" or "post" or "patch" or "delete")
                .Select(op => (Key: (op.Key.ToUpperInvariant(), Normalise(path.Key)), Operation: op.Value!)))
            .ToDictionary(o => o.Key, o => o.Operation);

    /// <summary>
    /// The rows of API.md's route tables: a first cell with backticked <c>METHOD /path</c> (several, joined by ·, in one row),
    /// <c>...</c> standing for <c>/v1/canvases/{c}</c>; the statuses are the three-digit codes of the other cells. The routes
    /// of the "Emit" section are the emitter's.
    /// </summary>
    private static List<DocumentedRoute> DocumentedRoutes(IEnumerable<string> lines)
    {
        var routes = new List<DocumentedRoute>();
        var section = "";
        foreach (var line in lines)
        {
            if (line.StartsWith("## ", StringComparison.Ordinal)) section = line[3..].Trim();
            if (!line.StartsWith('|')) continue;
            var cells = line.Trim('|').Split('|', 2);
            if (cells.Length < 2) continue;
            var statuses = StatusCode().Matches(cells[1]).Select(m => m.Value).ToHashSet();
            foreach (Match route in RouteCode().Matches(cells[0]))
            {
                var path = route.Groups["path"].Value.Split('?')[0];
                if (path.StartsWith("...", StringComparison.Ordinal)) path = "/v1/canvases/{c}" + path[3..];
                routes.Add(new DocumentedRoute(route.Groups["method"].Value, Normalise(path), section == "Emit", statuses, line.Trim()));
            }
        }
        return routes;
    }

    /// <summary>Parameter names differ between API.md (<c>{c}</c>, <c>{w}</c>, <c>{name}</c>) and the routes (<c>{canvas}</c>, ...): compare without them.</summary>
    private static string Normalise(string path) => Parameter().Replace(path, "{}").TrimEnd('/');

    [GeneratedRegex(@"`(?<method>GET|PUT|POST|PATCH|DELETE) (?<path>[^`\s]+)")]
    private static partial Regex RouteCode();

    [GeneratedRegex(@"(?<![\w.])[1-5]\d\d(?![\w.])")]
    private static partial Regex StatusCode();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
