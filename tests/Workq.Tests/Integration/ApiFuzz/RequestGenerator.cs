using System.Globalization;
using CsCheck;

namespace Workq.Tests.Integration.ApiFuzz;

/// <summary>
/// Generates requests for the operations of the OpenAPI documents with CsCheck's generators, drawn from one seeded PCG
/// so that a seed names the same requests again: valid values (from the schemas and the names the API takes) and
/// invalid ones, NUL and other control characters, lone surrogates, huge and empty strings, deep JSON, numbers at the
/// edges, repeated parameters and wrong content types.
/// </summary>
public sealed class RequestGenerator(FuzzTargets targets, PCG pcg)
{
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    private static readonly string[] Fragments =
    [
        "\0", "\u0001", "\u0008", "\u001b", "\u007f", "\u0085", "\ud800", "\udbff", "\udc00", "\udfff",
        "\udc00\ud800", "\ud83d\ude00", "\ufeff", "\ufffe", "\uffff", "\u2028", "\u202e", "\u200b", "e\u0301",
        "ｆｕｌｌ", "%", "_", "%00", "%25", "\\", "\\u0000", "\"", "'", "`", "<script>", "${x}", "../",
        "/", "?", "#", "&", "=", "+", " ", "\t", "\r\n", "\n", "null", "-1", "1e309", "NaN", "中文", "𝕏", "a",
    ];

    /// <summary>
    /// What PostgreSQL text, UTF-8 or System.Text.Json cannot hold as they are: most generated text holds one.
    /// </summary>
    private static readonly string[] Dangerous
        = ["\0", "\ud800", "\udc00", "\udc00\ud800", "\u0001", "\uffff", "a\0\ud800b"];

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "0.5", "1e-320", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
        "9223372036854775808", "1e308", "-1e308", "1.8e308", "99999999999999999999999999999", "1E400",
        "1.0000000000000000000001", "60", "3600", "1000", "1001",
    ];

    private static readonly string[] Codes =
    [
        "return 1;",
        "Log(\"hi\"); return Event;",
        "throw new Exception(\"boom \\0 \\ud800\");",
        "Log(new string('x', 3000)); return null;",
        "await Emit(Meta.Worker, new { n = 1 }, delay: TimeSpan.FromDays(1)); return 0;",
        "return System.IO.File.ReadAllText(\"/etc/passwd\");",
        "var x = ;",
        "",
    ];

    private static readonly string[] Times =
    [
        "2026-01-31", "2026-01-31T12:00:00Z", "2026-01-31T12:00:00+01:00", "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "1970-01-01T00:00:00Z",
        "2026-13-45T25:61:61Z", "2026-01-31T12:00:00", "1/2/2026", "now", "20260131T120000Z",
    ];

    private static readonly string[] Schedules
        = ["*/5 * * * *", "0 3 * * *", "@daily", "61 * * * *", "* * * *", "0 0 31 2 *", "L W # ? H", "* * * * * *"];

    private static readonly string[] ContentTypes =
    [
        "application/x-www-form-urlencoded", "text/plain", "application/xml", "application/json; charset=utf-16",
        "multipart/form-data; boundary=x",
    ];

    private static readonly string[] Malformed =
    [
        "{", "[1,", "{\"a\":}", "nul", "\"unterminated", "{\"a\":1} trailing", "/* c */ {}", "{'a':1}", "\ufeff{}",
        "{\"a\":1,\"a\":2}", "[]]", "1 2",
    ];

    private static readonly byte[][] BadUtf8 =
    [
        [0x22, 0xff, 0xfe, 0x22],
        [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d],
        [0x22, 0xed, 0xa0, 0x80, 0x22],
        [0x00, 0x00],
    ];

    private static readonly Gen<string> Token = Gen.Char['a', 'z'].Array[1, 20].Select(chars => new string(chars));

    private static readonly Gen<string> Hostile = Gen.Frequency(
        (40, Gen.Select(Token, Gen.OneOf(Dangerous), Token, (a, d, b) => a + d + b)),
        (25, Gen.OneOf(Fragments).Array[1, 6].Select(parts => string.Concat(parts))),
        (10, Gen.Select(Token, Gen.OneOf(Fragments), Token, (a, f, b) => a + f + b)),
        (8, Gen.String),
        (4, Gen.Const("")),
        (4, Gen.Int[1_000, 5_000].Select(n => new string('x', n) + "\0")),
        (2, Gen.Int[100_000, 400_000].Select(n => new string('y', n))),
        (7, Token));

    /// <summary>
    /// Fields whose value is free text (stored, searched, shown): any string is valid there, so valid requests carry
    /// hostile ones.
    /// </summary>
    private static readonly HashSet<string> FreeText = ["q", "reason", "idempotencyKey", IdempotencyHeader, "text"];

    private const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>
    /// Set per request: a wild one may break any part of it; otherwise its constrained values are valid and only its
    /// free text is hostile.
    /// </summary>
    private bool wild;

    private int Int(int min, int max) => Gen.Int[min, max].Generate(pcg, null, out _);

    private bool Chance(int percent) => Int(1, 100) <= percent;

    private T Pick<T>(IReadOnlyList<T> values) => values[Int(0, values.Count - 1)];

    private string HostileString() => Hostile.Generate(pcg, null, out _);

    public FuzzRequest Next(int number, ApiOperation operation)
    {
        wild = Chance(40);
        var path = operation.Path;
        foreach (var parameter in operation.Parameters.Where(p => p.In == "path"))
            path = path.Replace(
                "{" + parameter.Name + "}",
                Encode(PathValue(operation, parameter.Name)),
                StringComparison.Ordinal);

        var query = new List<(string, string)>();
        var headers = new List<(string, string)>();
        foreach (var parameter in operation.Parameters.Where(p => p.In is "query" or "header"))
        {
            if (!Chance(wild ? 55 : 45)) continue;
            var into = parameter.In == "query" ? query : headers;
            into.Add((parameter.Name, ParameterValue(parameter)));
            // A single-valued parameter given twice: which one would win?
            if (Chance(wild ? 12 : 3)) into.Add((parameter.Name, ParameterValue(parameter)));
        }
        if (wild && Chance(8)) query.Add((Token.Generate(pcg, null, out _), HostileString()));
        var authorization = (wild ? Int(1, 100) : Int(1, 88)) switch
        {
            <= 82 => "Bearer " + targets.AdminToken,
            <= 88 => "Bearer " + targets.CanvasToken,
            <= 93 => null,
            _ => Pick<string>(
                ["Bearer ", "Basic YTpi", "Bearer " + HostileString(), "bearer " + targets.AdminToken + "x"]),
        };
        if (authorization is not null) headers.Add(("Authorization", authorization));

        var (body, contentType) = operation.BodySchema is { } schema || Chance(8)
            ? Body(operation.BodySchema)
            : (null, null);
        var pathAndQuery = path + (query.Count == 0
            ? ""
            : "?" + string.Join("&", query.Select(q => Encode(q.Item1) + "=" + Encode(q.Item2))));
        return new FuzzRequest(number, operation, pathAndQuery, headers, body, contentType, BudgetOf(operation, query));
    }

    /// <summary>
    /// A deploy compiles: its answer may take a compile's time on top (a few seconds; WORKQ_COMPILE_TIMEOUT_SECONDS
    /// bounds it).
    /// </summary>
    public static readonly TimeSpan CompileAllowance = TimeSpan.FromSeconds(3);

    /// <summary>2 s; a long-poll's wait on top (at most 60 s, as API.md allows), and a deploy's compile.</summary>
    private static TimeSpan BudgetOf(ApiOperation operation, List<(string Name, string Value)> query)
    {
        if (operation is { Method: "PUT", Path: "/v1/canvases/{canvas}/workers/{worker}" }) return Budget
            + CompileAllowance;
        return (operation.Path.EndsWith("/events/{id}", StringComparison.Ordinal)
                || operation.Path.EndsWith("/batches/{id}", StringComparison.Ordinal)) && operation.Method == "GET"
               && query.Count(q => q.Name == "wait") == 1
               && int.TryParse(
                   query.Single(q => q.Name == "wait").Value,
                   NumberStyles.None,
                   CultureInfo.InvariantCulture,
                   out var wait) && wait <= 60
            ? Budget + TimeSpan.FromSeconds(wait)
            : Budget;
    }

    private string PathValue(ApiOperation operation, string name)
    {
        // Deleting the canvas or the worker every other request aims at would leave the rest of the run with 404s.
        var destructive = operation.Method == "DELETE"
                          && (operation.Path == "/v1/canvases/{canvas}"
                              || operation.Path.EndsWith("/workers/{worker}", StringComparison.Ordinal));
        var roll = wild ? Int(1, 100) : Int(1, 85);
        if (roll > 88) return HostileString();
        if (roll > 82 || (destructive && name is "canvas" or "worker")) return "fuzz-absent-"
            + Token.Generate(pcg, null, out _);
        return name switch
        {
            "canvas" => targets.Canvas,
            "worker" => targets.Worker,
            "cron" => targets.Cron,
            "id" => Chance(60) && targets.EventIds.Count > 0
                ? Pick(targets.EventIds).ToString()
                : new Guid(Gen.Byte.Array[16].Generate(pcg, null, out _)).ToString(Pick<string>(["D", "N", "B"])),
            _ => Token.Generate(pcg, null, out _),
        };
    }

    /// <summary>A query or header value: one the API takes for that name, an edge of its schema, or anything.</summary>
    private string ParameterValue(ApiParameter parameter)
    {
        if (FreeText.Contains(parameter.Name)) return Chance(80) ? HostileString() : Token.Generate(pcg, null, out _);
        if (wild && Chance(30)) return HostileString();
        return parameter.Name switch
        {
            "limit" when !wild => Int(1, 1_000).ToString(CultureInfo.InvariantCulture),
            "step" when !wild => Pick<string>(["60", "3600"]),
            "delaySeconds" when !wild => Pick<string>(["0", "0.5", "30", "2592000"]),
            "from" or "to" or "runAt" when !wild => Near(parameter.Name == "runAt" ? "O" : "yyyy-MM-ddTHH:mm:ssZ"),
            "orderingKey" when !wild => Token.Generate(pcg, null, out _),
            "from" or "to" or "runAt" => Chance(70) ? Pick(Times) : Near("O"),
            "wait" => Pick<string>(["0", "1", "2", "61", "-1", "1.5", "99999999999", ""]),
            "cursor" => Chance(50)
                ? "MTIzNDU2Nzg5LjAw"
                : Convert.ToBase64String(Encoding.UTF8.GetBytes(HostileString())),
            _ when SchemaType(parameter.Schema) is "integer" or "number" => Pick(Numbers),
            _ => Chance(50) ? Token.Generate(pcg, null, out _) : HostileString(),
        };
    }

    /// <summary>A time within two hours of now.</summary>
    private string Near(string format)
        => DateTimeOffset.UtcNow.AddMinutes(Int(-120, 120)).ToString(format, CultureInfo.InvariantCulture);

    private (byte[]? Body, string? ContentType) Body(JsonNode? schema)
    {
        var contentType = Int(1, 100) switch
        {
            <= 84 => "application/json",
            <= 90 => null,
            _ => Pick(ContentTypes),
        };
        var text = (wild ? Int(1, 100) : Int(1, 68)) switch
        {
            <= 64 => Json(schema, null, 0),
            <= 72 => Deep(),
            <= 78 => Pick(Malformed),
            <= 82 => "",
            <= 88 => $"{{\"{Pick<string>(["code", "event", "reason", "name", "schedule"])}\":\""
                + $"{new string('x', Pick<int>([70_000, 300_000, 1_100_000]))}\"}}",
            <= 92 => null,
            _ => AnyJson(0),
        };
        return (text is null ? Pick(BadUtf8) : Encoding.UTF8.GetBytes(ReplaceLoneSurrogates(text)), contentType);
    }

    private string Deep()
    {
        var depth = Pick<int>([65, 257, 1_000, 10_000, 100_000]);
        return Chance(50)
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
    }

    /// <summary>
    /// A JSON text for the schema: mostly of its shape, with any value where it names none, and sometimes a value of
    /// another type.
    /// </summary>
    private string Json(JsonNode? schema, string? name, int depth)
    {
        if (schema is null || depth > 6 || (wild && Chance(8))) return AnyJson(depth);
        if (schema["anyOf"] is JsonArray anyOf) return Json(Pick(anyOf.ToList()), name, depth + 1);
        if (schema["oneOf"] is JsonArray oneOf) return Json(Pick(oneOf.ToList()), name, depth + 1);
        var type = SchemaType(schema);
        if (type is null) return AnyJson(depth);
        if (Nullable(schema) && Chance(10)) return "null";
        return type switch
        {
            "string" => Quote(StringFor(name)),
            "integer" or "number" when !wild => ValidNumber(name),
            "integer" or "number" => Pick(Numbers),
            "boolean" => Chance(50) ? "true" : "false",
            "array" => "[" + string.Join(",", Enumerable.Range(0, wild ? Pick<int>([0, 1, 2, 3, 1_001]) : Int(1, 3))
                .Select(_ => Json(schema["items"], null, depth + 1))) + "]",
            "object" => Object(schema, depth),
            _ => AnyJson(depth),
        };
    }

    private string Object(JsonNode schema, int depth)
    {
        var members = new List<string>();
        foreach (var (property, propertySchema) in schema["properties"]?.AsObject() ?? [])
            if (Chance(wild ? 75 : property is "code" or "schedule" or "worker" or "event" or "name" ? 95 : 50))
                members.Add(Quote(property) + ":" + Json(propertySchema, property, depth + 1));
        if (wild && Chance(6)) members.Add(Quote(HostileString()) + ":" + AnyJson(depth + 1));
        return "{" + string.Join(",", members) + "}";
    }

    /// <summary>A value the API takes for a field of this name, or anything.</summary>
    private string StringFor(string? name)
    {
        if (name is not null && FreeText.Contains(name)) return HostileString();
        if (wild && Chance(35)) return HostileString();
        return name switch
        {
            "worker" => Chance(70) ? targets.Worker : Token.Generate(pcg, null, out _),
            "name" => "fuzz-" + Token.Generate(pcg, null, out _),
            // Code is free text where the compiler does not look: in a comment.
            "code" => Pick(Codes) + (Chance(50) ? " // " + HostileString() : ""),
            "runAt" when !wild => DateTimeOffset.UtcNow.AddMinutes(Int(1, 600))
                .ToString("O", CultureInfo.InvariantCulture),
            "schedule" => Pick(Schedules),
            "runAt" => Pick(Times),
            _ => Token.Generate(pcg, null, out _),
        };
    }

    /// <summary>A number the field takes (its range by name, as API.md gives it).</summary>
    private string ValidNumber(string? name) => name switch
    {
        "concurrency" => Int(1, 1_000).ToString(CultureInfo.InvariantCulture),
        "maxAttempts" => Int(1, 100).ToString(CultureInfo.InvariantCulture),
        "events" => Int(1, 1_000_000).ToString(CultureInfo.InvariantCulture),
        "perSeconds" => Pick<string>(["0.5", "1", "60", "86400"]),
        "delaySeconds" => Pick<string>(["0", "0.5", "30", "2592000"]),
        _ => Int(0, 86_400).ToString(CultureInfo.InvariantCulture),
    };

    private string AnyJson(int depth) => Int(1, 100) switch
    {
        <= 30 => Quote(HostileString()),
        <= 50 => Pick(Numbers),
        <= 58 => Pick<string>(["true", "false", "null"]),
        <= 78 when depth < 4 => "{" + string.Join(",", Enumerable.Range(0, Int(0, 4))
            .Select(_ => Quote(Chance(20) ? "__proto__" : HostileString()) + ":" + AnyJson(depth + 1))) + "}",
        <= 93 when depth < 4 => "[" + string.Join(",", Enumerable.Range(0, Int(0, 4)).Select(_ => AnyJson(depth + 1)))
            + "]",
        <= 96 => Deep(),
        _ => Quote(HostileString()),
    };

    private static string? SchemaType(JsonNode? schema) => schema?["type"] switch
    {
        JsonValue single => single.GetValue<string>(),
        JsonArray several => several.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t != "null"),
        _ => schema?["properties"] is not null ? "object" : null,
    };

    private static bool Nullable(JsonNode schema)
        => schema["type"] is JsonArray several && several.Any(t => t!.GetValue<string>() == "null");

    /// <summary>
    /// A JSON string literal that escapes control characters and lone surrogates, so a lone surrogate reaches the
    /// service as <c>\ud800</c>.
    /// </summary>
    public static string Quote(string value)
    {
        var json = new StringBuilder(value.Length + 2).Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) json.Append(c)
                .Append(value[++i]);
            else if (c is '"' or '\\') json.Append('\\').Append(c);
            else if (c < 0x20 || char.IsSurrogate(c)) json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else json.Append(c);
        }
        return json.Append('"').ToString();
    }

    /// <summary>
    /// Text outside JSON strings (a malformed body) may hold a lone surrogate too: sent as U+FFFD, UTF-8 having none.
    /// </summary>
    private static string ReplaceLoneSurrogates(string text) => Printable(text, escapeControls: false);

    /// <summary>
    /// Percent-encodes the UTF-8 of a path segment or query part; a lone surrogate goes as its three bytes (WTF-8),
    /// which no valid UTF-8 holds.
    /// </summary>
    public static string Encode(string value)
    {
        var encoded = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            byte[] bytes;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) bytes = Encoding
                .UTF8
                .GetBytes(value.Substring(i++, 2));
            else if (char.IsSurrogate(c)) bytes = [(byte)(0xE0 | (c >> 12)), (byte)(0x80
                | ((c >> 6) & 0x3F)), (byte)(0x80 | (c & 0x3F))];
            else bytes = Encoding.UTF8.GetBytes(c.ToString());
            foreach (var b in bytes)
            {
                if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~') encoded
                    .Append((char)b);
                else encoded.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }
        return encoded.ToString();
    }

    /// <summary>
    /// The text with lone surrogates as U+FFFD and, for reports, control characters as <c>\uXXXX</c>.
    /// </summary>
    public static string Printable(string value, bool escapeControls = true)
    {
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) text.Append(c)
                .Append(value[++i]);
            else if (char.IsSurrogate(c)) text.Append(escapeControls ? $"\\u{(int)c:x4}" : "\ufffd");
            else if (escapeControls && char.IsControl(c)) text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else text.Append(c);
        }
        return text.ToString();
    }
}
