using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Client;

namespace Workq.Cli;

/// <summary>
/// One command's run: its parse result, output, and the clients, made on first use so usage errors come before any
/// network.
/// </summary>
internal sealed class CliContext(
    ParseResult parse,
    TextWriter output,
    string controlUrl,
    string emitUrl,
    string? token,
    HttpMessageHandler? handler,
    TextReader input) : IDisposable
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private HttpClient? http;
    private WorkqControlClient? control;
    private WorkqClient? emitter;

    public ParseResult Parse => parse;
    public TextWriter Out => output;
    /// <summary>Standard input, for an argument given as <c>-</c>.</summary>
    public TextReader In => input;

    public WorkqControlClient Control
        => control ??= new WorkqControlClient(Address(controlUrl, "--url"), Token(), Http());
    public WorkqClient Emitter => emitter ??= new WorkqClient(Address(emitUrl, "--emit-url"), Token(), Http());

    public T Get<T>(Argument<T> argument) => parse.GetValue(argument)!;
    public T? Get<T>(Option<T> option) => parse.GetValue(option);

    public void WriteJson<T>(T value) => output.WriteLine(JsonSerializer.Serialize(value, Indented));

    /// <summary>What every listing command prints: JSON with <c>--json</c>, else an aligned table.</summary>
    public void WriteList<T>(
        IReadOnlyList<T> items,
        Option<bool> json,
        IReadOnlyList<string> headers,
        Func<T, string[]> row)
    {
        if (Get(json)) WriteJson(items);
        else TextTable.Write(output, headers, items.Select(row));
    }

    /// <summary>Splits <c>CANVAS/NAME</c>.</summary>
    public static (string Canvas, string Name) Target(string value, string what = "WORKER")
    {
        var slash = value.IndexOf('/');
        if (slash <= 0 || slash == value.Length - 1) throw new UsageException($"expected CANVAS/{what}, got '{value}'");
        return (value[..slash], value[(slash + 1)..]);
    }

    /// <summary>A JSON argument, checked here so a typo is a usage error rather than a round trip.</summary>
    public static JsonNode? ParseJson(string text, string what)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new UsageException($"{what} is not valid JSON: {e.Message}");
        }
    }

    /// <summary>A file the command line names; one that cannot be read is a usage error, not a stack trace.</summary>
    public static async Task<string> ReadFileAsync(string path, CancellationToken ct)
    {
        try
        {
            return await File.ReadAllTextAsync(path, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read {path}: {e.Message}");
        }
    }

    private string Token() => token is { Length: > 0 } value
        ? value
        : throw new UsageException("no token: pass --token or set WORKQ_TOKEN");

    private static Uri Address(string value, string option) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new UsageException($"{option} must be an http(s) address, not '{value}'");

    private HttpClient Http()
        => http ??= handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);

    public void Dispose()
    {
        control?.Dispose();
        emitter?.Dispose();
        http?.Dispose();
    }
}
