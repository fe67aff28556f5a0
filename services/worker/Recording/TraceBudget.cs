using System.Globalization;
using System.Text;
using System.Text.Json;
using Workq.Shared.Handlers.Scripting;
using Workq.Worker.Runs;

namespace Workq.Worker.Recording;

/// <summary>
/// <c>WORKQ_MAX_TRACE_BYTES</c> over what one run leaves: its result, its error and its logs together, counted in UTF-8
/// bytes. Applied in the worker service to what the handler host gave back, whichever it is (a runner cannot send past
/// it), before the trace is kept or the status written, so that neither, nor this service's memory, grows with a
/// tenant's values. When the three do not fit, each has an equal share and what one leaves goes to the others; a field
/// cut to its share ends with a marker saying so (a result becomes a JSON string of its text's start) and is named in
/// the trace's <c>truncated</c>.
/// </summary>
public static class TraceBudget
{
    public const string Result = "result", Error = "error", Logs = "logs";

    /// <summary>
    /// An exception's type name is not the tenant's text: it is kept, up to this many characters, ahead of the message.
    /// </summary>
    private const int MaxTypeChars = 200;

    public static KeptRun Apply(HandlerOutcome ran, int maxBytes)
    {
        var (result, isJson) = ResultText(ran.Result, ran.ResultOptions);
        var type = ran.ErrorType is { Length: > MaxTypeChars } longType ? longType[..MaxTypeChars] : ran.ErrorType;
        var logs = ran.Logs ?? [];
        long resultBytes = Bytes(result), errorBytes = Bytes(type) + Bytes(ran.ErrorMessage), logBytes = logs.Sum(
            l => (long)Bytes(l));
        var whole = result is null ? null : isJson ? result : JsonSerializer.Serialize(result);
        if (resultBytes + errorBytes + logBytes <= maxBytes) return new KeptRun(
            whole,
            type,
            ran.ErrorMessage,
            logs,
            []);

        var (resultShare, errorShare, logShare) = Shares(resultBytes, errorBytes, logBytes, maxBytes);
        var truncated = new List<string>(3);
        if (resultBytes > resultShare)
        {
            whole = JsonSerializer.Serialize(Cut(result!, resultShare - Bytes(Marker(maxBytes))) + Marker(maxBytes));
            truncated.Add(Result);
        }
        var message = ran.ErrorMessage;
        if (errorBytes > errorShare)
        {
            message = Cut(message ?? "", errorShare - Bytes(type) - Bytes(Marker(maxBytes))) + Marker(maxBytes);
            truncated.Add(Error);
        }
        if (logBytes > logShare)
        {
            logs = CutLogs(logs, logShare, logBytes, maxBytes);
            truncated.Add(Logs);
        }
        return new KeptRun(whole, type, message, logs, truncated);
    }

    /// <summary>
    /// The result's JSON text, null for none: a runner's is checked, as it holds hostile code (anything but one JSON
    /// value is text, kept as a JSON string), a value of this process's handler serialized. A cut one is the start of
    /// that text either way.
    /// </summary>
    private static (string? Text, bool IsJson) ResultText(object? result, JsonSerializerOptions? options)
    {
        if (result is TraceResult { Json: var json })
            return ReferenceEquals(result, TraceResult.Null)
                ? (null, true)
                : (Encoding.UTF8.GetString(json), IsJson(json));
        return (result is null ? null : JsonResult.ToTraceJson(result, options), true);
    }

    private static bool IsJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>An equal share each; a field smaller than its share leaves the rest to the larger ones.</summary>
    private static (long Result, long Error, long Logs) Shares(long result, long error, long logs, int maxBytes)
    {
        long[] sizes = [result, error, logs];
        var shares = new long[3];
        long left = maxBytes;
        var order = new[] { 0, 1, 2 }.OrderBy(i => sizes[i]).ToArray();
        for (var n = 0; n < 3; n++)
        {
            var i = order[n];
            shares[i] = Math.Min(sizes[i], left / (3 - n));
            left -= shares[i];
        }
        return (shares[0], shares[1], shares[2]);
    }

    /// <summary>The log lines that fit, the one after them cut, and a last line saying how much was left out.</summary>
    private static List<string> CutLogs(IReadOnlyList<string> logs, long share, long total, int maxBytes)
    {
        var note = string.Create(CultureInfo.InvariantCulture,
            $"[truncated at WORKQ_MAX_TRACE_BYTES ({maxBytes} bytes): {{0}} of {total} bytes of logs left out]");
        var room = share - Bytes(note) - 20;
        var kept = new List<string>();
        long keptBytes = 0;
        foreach (var line in logs)
        {
            if (room <= 0) break;
            var bytes = Bytes(line);
            var part = bytes <= room ? line : Cut(line, room);
            kept.Add(part);
            room -= Bytes(part);
            keptBytes += Bytes(part);
            if (part.Length < line.Length) break;
        }
        kept.Add(string.Format(CultureInfo.InvariantCulture, note, total - keptBytes));
        return kept;
    }

    /// <summary>
    /// Without the field's size: a runner sends no more of a field than could be kept, so its whole size is not known
    /// here.
    /// </summary>
    private static string Marker(int maxBytes)
        => string.Create(CultureInfo.InvariantCulture, $"… [truncated at WORKQ_MAX_TRACE_BYTES ({maxBytes} bytes)]");

    /// <summary>
    /// The longest start of the text within <paramref name="maxBytes"/> of UTF-8, never splitting a surrogate pair.
    /// </summary>
    public static string Cut(string text, long maxBytes)
    {
        long bytes = 0;
        var i = 0;
        while (i < text.Length)
        {
            var pair = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var size = pair ? 4 : text[i] < 0x80 ? 1 : text[i] < 0x800 ? 2 : 3;
            if (bytes + size > maxBytes) break;
            bytes += size;
            i += pair ? 2 : 1;
        }
        return text[..i];
    }

    private static int Bytes(string? text) => text is null ? 0 : Encoding.UTF8.GetByteCount(text);
}
