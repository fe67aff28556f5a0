using System.Text;
using System.Text.Json;
using Workq.Shared.Handlers;

namespace Workq.UnitTests.Input;

/// <summary>The one rule for text a tenant gives (TenantText): stored as PostgreSQL text, read as JSON.</summary>
public sealed class TenantTextTests
{
    // Built at run time: a lone surrogate does not survive an attribute's string (metadata keeps it as UTF-8).
    private const char High = '\ud800', Low = '\udc00';

    public static TheoryData<string, string> Unstorable => new()
    {
        { "a\0b", "a\u2400b" },
        { "\0", "\u2400" },
        { $"a{High}b", "a\ufffdb" },
        { $"a{Low}", "a\ufffd" },
        { $"{Low}{High}", "\ufffd\ufffd" },
        { $"\ud83d\ude00 \0 {High}", "\ud83d\ude00 \u2400 \ufffd" },
    };

    [Theory]
    [MemberData(nameof(Unstorable))]
    public void Nul_and_lone_surrogates_are_stored_as_their_stand_ins_and_the_rest_exactly(string given, string stored)
        =>
        Assert.Equal(stored, TenantText.Store(given));

    [Fact]
    public void Text_without_them_is_the_same_string_and_null_stays_null()
    {
        const string clean = "plain \u0001 control, \u2400 itself, and a pair \ud83d\ude00";
        Assert.Same(clean, TenantText.Store(clean));
        Assert.Null(TenantText.Store(null));
    }

    [Fact]
    public void Storing_twice_changes_nothing_more() =>
        Assert.Equal(TenantText.Store($"x\0{High}"), TenantText.Store(TenantText.Store($"x\0{High}")));

    [Theory]
    [InlineData("""{"a":"x\ud800y"}""", """{"a":"x\ufffdy"}""")]
    [InlineData("""["\uDC00", "\ud800\udc00", "\ud800\ud800"]""", """["\ufffd", "\ud800\udc00", "\ufffd\ufffd"]""")]
    [InlineData("""{"a":"\\ud800"}""", """{"a":"\\ud800"}""")]
    [InlineData("""{"a":"\\\ud800"}""", """{"a":"\\\ufffd"}""")]
    [InlineData("""{"\ud800":1}""", """{"\ufffd":1}""")]
    public void Json_reads_an_escaped_lone_surrogate_as_u_fffd_and_leaves_pairs_and_escaped_backslashes(
        string given,
        string readable)
    {
        Assert.Equal(readable, Encoding.UTF8.GetString(TenantText.Json(Encoding.UTF8.GetBytes(given))));
        // What it gives System.Text.Json reads whole.
        Assert.NotNull(
            JsonNode.Parse(Encoding.UTF8.GetString(TenantText.Json(Encoding.UTF8.GetBytes(given))))!.ToJsonString());
    }

    [Fact]
    public void Json_reads_bytes_that_are_not_utf8_as_u_fffd()
    {
        byte[] given = [(byte)'"', 0xff, (byte)'a', 0xed, 0xa0, 0x80, (byte)'"'];
        var readable = TenantText.Json(given).ToArray();
        Assert.Equal("a", JsonNode.Parse(readable)!.GetValue<string>().Replace("\ufffd", "", StringComparison.Ordinal));
        Assert.StartsWith("\ufffd", JsonNode.Parse(readable)!.GetValue<string>());
    }

    [Fact]
    public void Json_without_them_is_the_same_bytes()
    {
        var clean = Encoding.UTF8.GetBytes("""{"a":"\u0000 \ud83d\ude00 é"}""");
        Assert.True(TenantText.Json(clean) == clean.AsSpan());
    }

    [Fact]
    public void GetString_reads_what_the_reader_cannot()
    {
        Assert.Throws<InvalidOperationException>(() => FirstString("""["a\ud800b"]"""u8));
        var reader = new Utf8JsonReader("""["a\ud800b", "plain"]"""u8);
        reader.Read();
        reader.Read();
        Assert.Equal("a\ufffdb", TenantText.GetString(ref reader));
        reader.Read();
        Assert.Equal("plain", TenantText.GetString(ref reader));
    }

    private static string? FirstString(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        reader.Read();
        return reader.GetString();
    }

    [Fact]
    public void Stored_json_is_read_as_json_however_deep_the_emitter_took_it_and_with_lone_surrogates()
    {
        var deep = new string('[', 250) + new string(']', 250);
        Assert.IsType<JsonArray>(JsonText.ParseOrString(deep));
        var node = JsonText.ParseOrString("""{"s":"\ud800"}""");
        Assert.Equal("\ufffd", node!["s"]!.GetValue<string>());
        Assert.Equal("not json \0", JsonText.ParseOrString("not json \0")!.GetValue<string>());
    }
}
