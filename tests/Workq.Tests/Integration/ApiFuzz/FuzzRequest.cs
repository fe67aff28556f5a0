namespace Workq.Tests.Integration.ApiFuzz;

/// <summary>One generated request, ready to send; <see cref="Budget"/> is how long its answer may take.</summary>
public sealed record FuzzRequest(
    int Case,
    ApiOperation Operation,
    string PathAndQuery,
    IReadOnlyList<(string Name, string Value)> Headers,
    byte[]? Body,
    string? ContentType,
    TimeSpan Budget)
{
    /// <summary>
    /// The request as a failure report shows it: long values cut, control characters and lone surrogates escaped.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder($"#{Case} {Operation.Method} {Operation.Service}{Cut(PathAndQuery, 300)}");
        foreach (var (name, value) in Headers) text.Append(
            $"\n  {name}: {RequestGenerator.Printable(Cut(value, 120))}");
        if (ContentType is not null) text.Append($"\n  Content-Type: {ContentType}");
        if (Body is not null) text.Append(
            $"\n  body ({Body.Length} bytes): {RequestGenerator.Printable(Cut(Encoding.UTF8.GetString(Body), 300))}");
        return text.ToString();
    }

    private static string Cut(string value, int length)
        => value.Length <= length ? value : value[..length] + $"…(+{value.Length - length})";
}
