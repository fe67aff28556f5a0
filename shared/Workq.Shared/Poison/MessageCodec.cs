using System.Collections;
using System.Text;
using System.Text.Json.Nodes;
using RabbitMQ.Client;

namespace Workq.Shared.Poison;

/// <summary>
/// A broker message's properties and headers as JSON that PostgreSQL's jsonb takes whatever they hold, and back, so a
/// quarantined message is kept whole and can be published again as it was. Header text that is UTF-8 without NUL stays
/// a string; other bytes become <c>{"base64": ...}</c>; tables <c>{"table": {...}}</c>, timestamps <c>{"timestamp":
/// unix seconds}</c>. Numbers come back as long (or double), which every reader of our headers accepts.
/// </summary>
public static class MessageCodec
{
    private const string Base64 = "base64", Table = "table", Timestamp = "timestamp", Headers = "headers";
    private static readonly UTF8Encoding StrictUtf8 = new(
        encoderShouldEmitUTF8Identifier: false,
        throwOnInvalidBytes: true);

    public static JsonObject Encode(IReadOnlyBasicProperties properties)
    {
        var json = new JsonObject();
        void Add(string name, bool present, object? value)
        {
            if (present) json[name] = EncodeValue(value);
        }
        Add("messageId", properties.IsMessageIdPresent(), properties.MessageId);
        Add("contentType", properties.IsContentTypePresent(), properties.ContentType);
        Add("contentEncoding", properties.IsContentEncodingPresent(), properties.ContentEncoding);
        Add("correlationId", properties.IsCorrelationIdPresent(), properties.CorrelationId);
        Add("type", properties.IsTypePresent(), properties.Type);
        Add("appId", properties.IsAppIdPresent(), properties.AppId);
        Add("userId", properties.IsUserIdPresent(), properties.UserId);
        Add("replyTo", properties.IsReplyToPresent(), properties.ReplyTo);
        Add("expiration", properties.IsExpirationPresent(), properties.Expiration);
        Add("priority", properties.IsPriorityPresent(), properties.Priority);
        Add("deliveryMode", properties.IsDeliveryModePresent(), (byte)properties.DeliveryMode);
        Add("timestamp", properties.IsTimestampPresent(), properties.Timestamp);
        if (properties.Headers is { } headers) json[Headers] = EncodeTable(headers);
        return json;
    }

    public static BasicProperties Decode(JsonObject json)
    {
        string? Text(string name) => json[name] is { } node ? AsText(DecodeValue(node)) : null;
        long? Number(string name)
            => json[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : null;
        var properties = new BasicProperties
        {
            MessageId = Text("messageId"),
            ContentType = Text("contentType"),
            ContentEncoding = Text("contentEncoding"),
            CorrelationId = Text("correlationId"),
            Type = Text("type"),
            AppId = Text("appId"),
            UserId = Text("userId"),
            ReplyTo = Text("replyTo"),
            Expiration = Text("expiration"),
        };
        if (Number("priority") is { } priority) properties.Priority = (byte)priority;
        if (Number("deliveryMode") is { } mode) properties.DeliveryMode = (DeliveryModes)mode;
        if (DecodeValue(json["timestamp"]) is AmqpTimestamp timestamp) properties.Timestamp = timestamp;
        if (json[Headers] is JsonObject headers) properties.Headers = DecodeTable(headers);
        return properties;
    }

    public static JsonNode? EncodeValue(object? value) => value switch
    {
        null => null,
        byte[] bytes => EncodeBytes(bytes),
        string text => Clean(text) == text && !text.Contains('\0')
            ? JsonValue.Create(text)
            : EncodeBytes(Encoding.UTF8.GetBytes(text)),
        bool flag => JsonValue.Create(flag),
        byte or sbyte or short or ushort or int or uint or long => JsonValue.Create(
            Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)),
        ulong or float or double or decimal => JsonValue.Create(
            Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)),
        AmqpTimestamp at => new JsonObject { [Timestamp] = at.UnixTime },
        IDictionary<string, object?> table => new JsonObject { [Table] = EncodeTable(table) },
        IEnumerable list => new JsonArray([.. list.Cast<object?>().Select(EncodeValue)]),
        _ => JsonValue.Create(Clean(value.ToString() ?? "")),
    };

    public static object? DecodeValue(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o when o[Base64] is JsonValue b => Convert.FromBase64String(b.GetValue<string>()),
        JsonObject o when o[Table] is JsonObject t => DecodeTable(t),
        JsonObject o when o[Timestamp] is JsonValue t => new AmqpTimestamp(t.GetValue<long>()),
        JsonObject o => DecodeTable(o),
        JsonArray a => a.Select(DecodeValue).ToList(),
        JsonValue v when v.TryGetValue<string>(out var text) => Encoding.UTF8.GetBytes(text),
        JsonValue v when v.TryGetValue<bool>(out var flag) => flag,
        JsonValue v when v.TryGetValue<long>(out var number) => number,
        JsonValue v => v.GetValue<double>(),
        _ => null,
    };

    /// <summary>
    /// Text PostgreSQL's text and jsonb take: NUL (which they cannot hold) becomes U+2400 ␀, and a lone surrogate (not
    /// UTF-16, so not UTF-8 either) U+FFFD. For what is shown and searched; what must stay exact is kept as bytes.
    /// </summary>
    public static string Clean(string text)
    {
        if (!text.Contains('\0') && !HasLoneSurrogate(text)) return text;
        var clean = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') clean.Append('\u2400');
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) clean.Append(c)
                .Append(text[++i]);
            else if (char.IsSurrogate(c)) clean.Append('\uFFFD');
            else clean.Append(c);
        }
        return clean.ToString();
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsSurrogate(text[i])) continue;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else return true;
        }
        return false;
    }

    private static JsonObject EncodeTable(IEnumerable<KeyValuePair<string, object?>> table)
    {
        var json = new JsonObject();
        // A key is text on the wire (shortstr); one PostgreSQL cannot hold is shown cleaned.
        foreach (var (key, value) in table) json[Clean(key)] = EncodeValue(value);
        return json;
    }

    private static Dictionary<string, object?> DecodeTable(JsonObject json)
        => json.ToDictionary(p => p.Key, p => DecodeValue(p.Value));

    private static JsonNode EncodeBytes(byte[] bytes)
    {
        if (bytes.AsSpan().IndexOf((byte)0) < 0)
        {
            try
            {
                return JsonValue.Create(StrictUtf8.GetString(bytes));
            }
            catch (DecoderFallbackException)
            {
                // Not UTF-8: kept exactly, as base64.
            }
        }
        return new JsonObject { [Base64] = Convert.ToBase64String(bytes) };
    }

    private static string? AsText(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        null => null,
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
    };
}
