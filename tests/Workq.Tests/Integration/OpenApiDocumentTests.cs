using System.Text.RegularExpressions;

namespace Workq.Tests.Integration;

/// <summary>
/// The OpenAPI documents of control and the emitter against docs/API.md: every route of its route tables is in the
/// document of its service with that method, every status its result cell names is among the operation's responses, and
/// every query parameter and header it names for a route is among the operation's parameters, with the type API.md
/// gives it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class OpenApiDocumentTests(WorkqCluster cluster)
{
    /// <summary>One route of an API.md table, and the statuses and query parameters its row names.</summary>
    private sealed record DocumentedRoute(
        string Method,
        string Path,
        bool OnEmitter,
        IReadOnlySet<string> Statuses,
        IReadOnlyList<string> Query,
        string Row);

    /// <summary>
    /// A query parameter or header API.md names for a route, where (<c>query</c> or <c>header</c>) and the type it
    /// says.
    /// </summary>
    private sealed record DocumentedInput(string Name, string In, string Type, string? Format = null);

    /// <summary>
    /// The types API.md gives the inputs it names: <c>limit</c> 1 to 1000, <c>step</c> 60 or 3600 seconds,
    /// <c>wait=N</c> seconds, <c>delaySeconds</c> a number of seconds, and ISO 8601 times; every other input is text.
    /// </summary>
    private static readonly Dictionary<string, (string Type, string? Format)> DocumentedTypes = new()
    {
        ["limit"] = ("integer", null),
        ["step"] = ("integer", null),
        ["wait"] = ("integer", null),
        ["delaySeconds"] = ("number", null),
        ["runAt"] = ("string", "date-time"),
        ["from"] = ("string", "date-time"),
        ["to"] = ("string", "date-time"),
    };

    [Fact]
    public async Task Every_route_and_status_of_the_api_reference_is_in_the_openapi_documents()
    {
        var control = await DocumentAsync(cluster.ControlUrl("/openapi/v1.json"));
        var emitter = await DocumentAsync(cluster.EmitUrl("/openapi/v1.json"));
        var routes = DocumentedRoutes(File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "API.md")));
        // A parser that finds nothing would pass vacuously: API.md has over 30 routes, the deploy among them with its
        // codes.
        Assert.True(routes.Count >= 30, $"only {routes.Count} routes parsed from docs/API.md");
        Assert.Contains(routes, r => r is { Method: "PUT", Path: "/v1/canvases/{}/workers/{}" }
            && r.Statuses.SetEquals(["200", "201", "400", "409", "413", "503"]));
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
                missing.Add($"{route.Method} {route.Path}: {status} is not among its responses "
                    + $"({string.Join(", ", responses.Order())}) in the {service}'s document");
        }
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    [Fact]
    public async Task Every_query_parameter_and_header_of_the_api_reference_is_in_the_openapi_documents()
    {
        var control = Operations(await DocumentAsync(cluster.ControlUrl("/openapi/v1.json")));
        var emitter = Operations(await DocumentAsync(cluster.EmitUrl("/openapi/v1.json")));
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "API.md"));
        var inputs = DocumentedInputs(lines);
        // Vacuous if the parsers found nothing: the dead-letter list alone names six, the single emit four (one a
        // header).
        Assert.True(
            inputs.Sum(i => i.Inputs.Count) >= 30,
            $"only {inputs.Sum(i => i.Inputs.Count)} inputs parsed from docs/API.md");
        Assert.Contains(inputs, i => i.Route is { Method: "GET" }
            && i.Route.Path.EndsWith("/dead-letters", StringComparison.Ordinal)
            && i.Inputs.Select(p => p.Name).Order().SequenceEqual(["cursor", "from", "limit", "q", "reason", "to"]));
        Assert.Contains(
            inputs,
            i => i.Route.OnEmitter && i.Inputs.Contains(new DocumentedInput("Idempotency-Key", "header", "string")));

        var missing = new List<string>();
        foreach (var (route, expected) in inputs)
        {
            var (operations, service) = route.OnEmitter ? (emitter, "emitter") : (control, "control");
            // A route missing from the document: the routes' test reports it.
            if (operations.GetValueOrDefault((route.Method, route.Path)) is not { } operation) continue;
            var parameters = (operation["parameters"]?.AsArray() ?? []).Select(p => p!).ToList();
            foreach (var input in expected)
            {
                var found = parameters.FirstOrDefault(p => p["in"]?.GetValue<string>() == input.In
                    && string.Equals(p["name"]?.GetValue<string>(), input.Name,
                        input.In == "header" ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));
                var kind = input.In == "header" ? "" : "parameter ";
                var where = $"{route.Method} {route.Path}: the {input.In} {kind}{input.Name}";
                if (found is null)
                {
                    missing.Add($"{where} is not among its parameters in the {service}'s document ({route.Row})");
                    continue;
                }
                var type = found["schema"]?["type"]?.ToJsonString().Trim('"');
                var format = found["schema"]?["format"]?.GetValue<string>();
                if (type != input.Type || (input.Format is not null && format != input.Format))
                    missing.Add(
                        $"{where} is {type} {format} in the {service}'s document, not {input.Type} {input.Format}");
            }
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
    /// The rows of API.md's route tables: a first cell with backticked <c>METHOD /path</c> (several, joined by ·, in
    /// one row), <c>...</c> standing for <c>/v1/canvases/{c}</c>; the statuses are the three-digit codes of the other
    /// cells. The routes of the "Emit" section are the emitter's, and so is a row of a table with a service column
    /// whose cell says <c>emitter</c> (the "Batches" table).
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
            // The query parameters of the row: in its route's code (?from=&to=) or in a code of their own beside it
            // (`?wait=N`).
            var query = QueryName().Matches(cells[0]).Select(m => m.Groups["name"].Value).ToList();
            foreach (Match route in RouteCode().Matches(cells[0]))
            {
                var path = route.Groups["path"].Value.Split('?')[0];
                if (path.StartsWith("...", StringComparison.Ordinal)) path = "/v1/canvases/{c}" + path[3..];
                routes.Add(new DocumentedRoute(
                    route.Groups["method"].Value,
                    Normalise(path),
                    section == "Emit" || line.Split('|').Any(cell => cell.Trim() == "emitter"),
                    statuses,
                    query,
                    line.Trim()));
            }
        }
        return routes;
    }

    /// <summary>
    /// The inputs API.md names for each route: the query parameters of its route tables' rows and, for the single emit
    /// (its own paragraphs say so), the query parameters of "Single emit: query parameters `a`, `b` and `c`" and the
    /// "`Name` header"s of the Emit section (the batch takes those in its items).
    /// </summary>
    private static List<(DocumentedRoute Route, List<DocumentedInput> Inputs)> DocumentedInputs(string[] lines)
    {
        var routes = DocumentedRoutes(lines);
        var emitSection = lines.SkipWhile(l => l.Trim() != "## Emit").Skip(1)
            .TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)).ToList();
        var singleEmitQuery = emitSection.Where(
            l => l.StartsWith("Single emit: query parameters", StringComparison.Ordinal))
            .SelectMany(l => Backticked().Matches(l.Split('.')[0]).Select(m => m.Groups["name"].Value));
        var emitHeaders = emitSection.SelectMany(l => HeaderName().Matches(l).Select(m => m.Groups["name"].Value));
        return [.. routes.Select(route =>
        {
            var inputs = route.Query.Select(name => Input(name, "query")).ToList();
            if (route is { OnEmitter: true, Method: "POST" }
                && route.Path.EndsWith("/workers/{}/events", StringComparison.Ordinal))
                inputs.AddRange([.. singleEmitQuery.Select(name => Input(name, "query")),
                    .. emitHeaders.Select(name => Input(name, "header"))]);
            return (route, inputs);
        }).Where(r => r.inputs.Count > 0)];
    }

    private static DocumentedInput Input(string name, string location) =>
        DocumentedTypes.TryGetValue(name, out var type)
            ? new(name, location, type.Type, type.Format)
            : new(name, location, "string");

    /// <summary>
    /// Parameter names differ between API.md (<c>{c}</c>, <c>{w}</c>, <c>{name}</c>) and the routes (<c>{canvas}</c>,
    /// ...): compare without them.
    /// </summary>
    private static string Normalise(string path) => Parameter().Replace(path, "{}").TrimEnd('/');

    [GeneratedRegex(@"`(?<method>GET|PUT|POST|PATCH|DELETE) (?<path>[^`\s]+)")]
    private static partial Regex RouteCode();

    [GeneratedRegex(@"(?<=[?&])(?<name>[A-Za-z][A-Za-z0-9]*)=")]
    private static partial Regex QueryName();

    [GeneratedRegex(@"`(?<name>[A-Za-z][A-Za-z0-9]*)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"`(?<name>[A-Za-z][A-Za-z0-9-]*)` header")]
    private static partial Regex HeaderName();

    [GeneratedRegex(@"(?<![\w.])[1-5]\d\d(?![\w.])")]
    private static partial Regex StatusCode();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
