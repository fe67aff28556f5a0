using System.Text;
using RabbitMQ.Client;
using Workq.Shared.Poison;

namespace Workq.UnitTests.Poison;

/// <summary>
/// A quarantined message's properties as JSON PostgreSQL's jsonb takes, and back as they were, whatever its headers
/// hold.
/// </summary>
public sealed class MessageCodecTests
{
    [Fact]
    public void Properties_round_trip_with_nul_bytes_that_are_not_utf8_tables_lists_and_timestamps()
    {
        var properties = new BasicProperties
        {
            MessageId = "id\0with-nul",
            ContentType = "application/json",
            DeliveryMode = DeliveryModes.Persistent,
            Priority = 3,
            Timestamp = new AmqpTimestamp(1_700_000_000),
            Headers = new Dictionary<string, object?>
            {
                ["workq-canvas"] = "shop"u8.ToArray(),
                ["reason"] = "dead\0letter"u8.ToArray(),
                ["binary"] = new byte[] { 0xff, 0xfe, 0x00, 0x41 },
                ["depth"] = 3,
                ["big"] = long.MaxValue,
                ["flag"] = true,
                ["ratio"] = 0.5,
                ["nested"] = new Dictionary<string, object?>
                {
                    ["x-death"] = new List<object?> { "q"u8.ToArray(), 2L }
                },
                ["none"] = null,
            },
        };

        var json = MessageCodec.Encode(properties);
        var text = json.ToJsonString();
        Assert.DoesNotContain("\\u0000", text);
        Assert.Equal("shop", json["headers"]!["workq-canvas"]!.GetValue<string>());
        Assert.NotNull(json["headers"]!["reason"]!["base64"]);

        var back = MessageCodec.Decode(System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject());
        Assert.Equal(properties.MessageId, back.MessageId);
        Assert.Equal(("application/json", DeliveryModes.Persistent, (byte)3, 1_700_000_000L),
            (back.ContentType, back.DeliveryMode, back.Priority, back.Timestamp.UnixTime));
        var headers = back.Headers!;
        Assert.Equal("shop"u8.ToArray(), headers["workq-canvas"]);
        Assert.Equal("dead\0letter"u8.ToArray(), headers["reason"]);
        Assert.Equal(new byte[] { 0xff, 0xfe, 0x00, 0x41 }, headers["binary"]);
        Assert.Equal(
            (3L, long.MaxValue, true, 0.5),
            (headers["depth"], headers["big"], headers["flag"], headers["ratio"]));
        var nested = Assert.IsType<Dictionary<string, object?>>(headers["nested"]);
        Assert.Equal(new object?[] { "q"u8.ToArray(), 2L }, Assert.IsType<List<object?>>(nested["x-death"]));
        Assert.Null(headers["none"]);
        Assert.False(back.IsCorrelationIdPresent());
    }

    [Fact]
    public void Clean_text_keeps_what_postgresql_takes_and_replaces_nul_and_lone_surrogates()
    {
        Assert.Equal("plain ✓ 😀", MessageCodec.Clean("plain ✓ 😀"));
        Assert.Equal("dead\u2400letter", MessageCodec.Clean("dead\0letter"));
        Assert.Equal("a\uFFFDb\uFFFD", MessageCodec.Clean("a\uD800b\uDC00"));
        Assert.Equal(Encoding.UTF8.GetByteCount(MessageCodec.Clean("\uD83D")), Encoding.UTF8.GetByteCount("\uFFFD"));
    }
}
