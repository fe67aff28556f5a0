using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Workq.Shared.Handlers;

/// <summary>
/// The one rule for text a tenant gives (docs/DESIGN.md, "Tenant text"). PostgreSQL text cannot hold U+0000 and UTF-8
/// cannot hold a lone surrogate, so text stored as text keeps each U+0000 as U+2400 (␀) and each lone surrogate as
/// U+FFFD (�), and everything else exactly (<see cref="Store"/>); a search applies the same rule to what it looks for,
/// so it finds them. JSON (event payloads, results, traces) is kept as it was written; where it is read, an escaped
/// lone surrogate (<c>\ud800</c>) reads as U+FFFD and so does a byte that is not UTF-8 (<see cref="Json"/>), which
/// System.Text.Json could not read otherwise.
/// </summary>
public static class TenantText
{
    /// <summary>What U+0000 is stored as: SYMBOL FOR NULL.</summary>
    public const char Nul = '\u2400';

    /// <summary>What a lone surrogate, or a byte that is not UTF-8, is stored and read as.</summary>
    public const char Replacement = '\uFFFD';

    /// <summary>
    /// The text as a PostgreSQL text column keeps it: the same string when it holds neither U+0000 nor a lone
    /// surrogate.
    /// </summary>
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Store(string? text)
    {
        if (text is null) return null;
        var first = FirstUnstorable(text);
        if (first < 0) return text;
        return string.Create(text.Length, (text, first), static (chars, state) =>
        {
            state.text.AsSpan().CopyTo(chars);
            for (var i = state.first; i < chars.Length; i++)
            {
                if (chars[i] == '\0') chars[i] = Nul;
                else if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length
                    && char.IsLowSurrogate(chars[i + 1])) i++;
                else if (char.IsSurrogate(chars[i])) chars[i] = Replacement;
            }
        });
    }

    private static int FirstUnstorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') return i;
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else return i;
        }
        return -1;
    }

    /// <summary>
    /// JSON text as System.Text.Json can read every string of: each <c>\uD800</c>-style escape of a lone surrogate
    /// becomes <c>\ufffd</c> (the same length, so in place in a copy) and bytes that are not UTF-8 become U+FFFD. The
    /// same bytes when there is none.
    /// </summary>
    public static ReadOnlySpan<byte> Json(ReadOnlySpan<byte> json)
    {
        byte[]? copy = null;
        if (!Utf8.IsValid(json))
        {
            copy = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json));
            json = copy;
        }
        for (var i = json.IndexOf((byte)'\\'); i >= 0 && i < json.Length - 1; i++)
        {
            if (json[i] != '\\') continue;
            if (json[i + 1] != 'u' || Escaped(json, i) is not { } code)
            {
                // Any other escape: two bytes, so that an escaped backslash is not read as the start of another.
                i++;
                continue;
            }
            if (char.IsHighSurrogate(code) && Escaped(json, i + 6) is { } next && char.IsLowSurrogate(next))
            {
                i += 11;
                continue;
            }
            if (char.IsSurrogate(code))
            {
                copy ??= json.ToArray();
                "\\ufffd"u8.CopyTo(copy.AsSpan(i));
                json = copy;
            }
            i += 5;
        }
        return json;
    }

    /// <summary>
    /// The character a <c>\uXXXX</c> escape at <paramref name="at"/> names, or null when there is none there.
    /// </summary>
    private static char? Escaped(ReadOnlySpan<byte> json, int at)
    {
        if (at + 6 > json.Length || json[at] != '\\' || json[at + 1] != 'u') return null;
        var code = 0;
        foreach (var b in json.Slice(at + 2, 4))
        {
            var digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit < 0) return null;
            code = code * 16 + digit;
        }
        return (char)code;
    }

    /// <summary>
    /// The reader's string token, a lone surrogate in it read as U+FFFD (<see cref="Utf8JsonReader.GetString"/> throws
    /// on one).
    /// </summary>
    public static string? GetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException) when (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
        {
            var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
            var quoted = new byte[raw.Length + 2];
            quoted[0] = quoted[^1] = (byte)'"';
            raw.CopyTo(quoted, 1);
            var again = new Utf8JsonReader(Json(quoted));
            again.Read();
            return again.GetString();
        }
    }
}
