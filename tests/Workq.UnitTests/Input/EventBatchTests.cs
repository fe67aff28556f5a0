using System.Text;
using Workq.Emitter.Emitting;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.UnitTests.Input;

/// <summary>
/// What a batch emit accepts (API.md "Emit"): a JSON array of 1 to 1,000 items, each a valid worker name and an event
/// of at most WORKQ_MAX_EVENT_BYTES, with an optional key, delay or time, ordering key and debounce; the first bad item
/// refuses the whole batch.
/// </summary>
public sealed class EventBatchTests
{
    private const int MaxEventBytes = 64;
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static BatchParse Parse(string json) => EventBatch.Parse(Encoding.UTF8.GetBytes(json), MaxEventBytes, Now);

    [Fact]
    public void Each_item_is_its_worker_its_event_bytes_as_sent_and_its_options()
    {
        const string body = """
            [{"worker": "a", "event": {"n": 1}},
             {"event": [1, 2], "worker": "b", "idempotencyKey": "k", "delaySeconds": 30, "orderingKey": "cart-9",
              "unknown": {"x": 1}},
             {"worker": "b", "event": null, "runAt": "2026-12-01T13:00:00Z", "idempotencyKey": null}]
            """;
        var items = Parse(body).Items!;
        Assert.Equal(3, items.Count);
        Assert.Equal(("a", """{"n": 1}""", null, null, null), Shape(items[0]));
        Assert.Equal(("b", "[1, 2]", "k", Now.AddSeconds(30), "cart-9"), Shape(items[1]));
        Assert.Equal(("b", "null", null, Now.AddHours(1), null), Shape(items[2]));
    }

    private static (string, string, string?, DateTimeOffset?, string?) Shape(BatchItem item) =>
        (item.Worker, Encoding.UTF8.GetString(item.Event.Span), item.IdempotencyKey, item.RunAt, item.OrderingKey);

    [Theory]
    [InlineData("", "The body is not valid JSON")] // the reader throws before Parse's own "The body is empty"
    [InlineData("""{"worker": "a", "event": 1}""", "must be a JSON array")]
    [InlineData("[]", "The batch is empty.")]
    [InlineData("[1]", "Item 0 must be an object")]
    [InlineData("""[{"worker": "a", "event": 1}, {"worker": "a"}]""", "Item 1: \"event\" is missing")]
    [InlineData("""[{"worker": "Not A Name", "event": 1}]""", "Item 0: invalid worker name 'Not A Name'")]
    [InlineData("""[{"worker": 7, "event": 1}]""", "Item 0: \"worker\" must be a string.")]
    [InlineData("""[{"worker": "a", "worker": "b", "event": 1}]""", "Item 0: \"worker\" is given twice.")]
    [InlineData("""[{"worker": "a", "event": 1, "idempotencyKey": ""}]""", "Item 0: the idempotency key is empty.")]
    [InlineData(
        """[{"worker": "a", "event": 1, "idempotencyKey": 5}]""",
        "Item 0: \"idempotencyKey\" must be a string.")]
    [InlineData(
        """[{"worker": "a", "event": 1, "delaySeconds": "5"}]""",
        "Item 0: \"delaySeconds\" must be a number of seconds.")]
    [InlineData("""[{"worker": "a", "event": 1, "delaySeconds": 2592001}]""", "Item 0: ")]
    [InlineData("""[{"worker": "a", "event": 1, "delaySeconds": 1, "runAt": "2026-12-01T13:00:00Z"}]""", "not both")]
    [InlineData(
        """[{"worker": "a", "event": 1, "runAt": "tomorrow"}]""",
        "Item 0: \"runAt\" must be an ISO 8601 date and time")]
    [InlineData("""[{"worker": "a", "event": 1, "orderingKey": ""}]""", "Item 0: \"orderingKey\": ")]
    [InlineData("""[{"worker": "a", "event": 1},""", "The body is not valid JSON")]
    public void A_bad_batch_is_refused_whole_naming_the_first_bad_item(string body, string problem)
    {
        var parse = Parse(body);
        Assert.Null(parse.Items);
        Assert.False(parse.EventTooLarge);
        Assert.Contains(problem, parse.Error);
    }

    [Fact]
    public void An_event_of_the_limit_is_taken_and_one_byte_more_is_too_large()
    {
        var atLimit = "\"" + new string('x', MaxEventBytes - 2) + "\"";
        Assert.Single(Parse($$"""[{"worker": "a", "event": {{atLimit}}}]""").Items!);
        var over = Parse($$"""[{"worker": "a", "event": "{{new string('x', MaxEventBytes - 1)}}"}]""");
        Assert.True(over.EventTooLarge);
        Assert.Contains("WORKQ_MAX_EVENT_BYTES", over.Error);
    }

    [Fact]
    public void A_batch_holds_at_most_1000_items()
    {
        string Batch(int n) => "[" + string.Join(",", Enumerable.Repeat("""{"worker": "a", "event": 1}""", n)) + "]";
        Assert.Equal(EventBatch.MaxItems, Parse(Batch(EventBatch.MaxItems)).Items!.Count);
        Assert.Equal("A batch holds at most 1000 items.", Parse(Batch(EventBatch.MaxItems + 1)).Error);
    }

    [Fact]
    public void Debounce_fields_make_an_items_debounce_and_a_bad_one_names_its_item()
    {
        var items = Parse("""
            [{"worker": "a", "event": 1, "debounceKey": "doc", "debounceSeconds": 1.5},
             {"worker": "a", "event": 2, "debounceKey": "doc", "debounceSeconds": 2, "debounceMode": "leading",
              "debounceMaxSeconds": 60},
             {"worker": "a", "event": 3, "debounceKey": null}]
            """).Items!;
        Assert.Equal(Debounce.Of("doc", TimeSpan.FromSeconds(1.5)), items[0].Debounce);
        Assert.Equal(new Debounce("doc", TimeSpan.FromSeconds(2), false, TimeSpan.FromSeconds(60)), items[1].Debounce);
        Assert.Null(items[2].Debounce);
        Assert.Equal("Item 0: debounceSeconds is missing: a debounceKey needs a period.",
            Parse("""[{"worker": "a", "event": 1, "debounceKey": "doc"}]""").Error);
        Assert.Equal("Item 0: \"debounceMode\" must be a string.",
            Parse("""[{"worker": "a", "event": 1, "debounceKey": "d", "debounceSeconds": 1, "debounceMode": 1}]""")
                .Error);
        Assert.StartsWith("Item 0: A debounced emit takes no delaySeconds",
            Parse("""[{"worker": "a", "event": 1, "debounceKey": "d", "debounceSeconds": 1, "delaySeconds": 1}]""")
                .Error);
        Assert.StartsWith("Item 0: a batch's events cannot be debounced", EventBatch.Parse(
            Encoding.UTF8.GetBytes("""[{"worker": "a", "event": 1, "debounceKey": "d", "debounceSeconds": 1}]"""),
            MaxEventBytes, Now, members: true).Error);
    }

    [Fact]
    public void A_priority_field_sets_an_items_priority_and_anything_but_the_three_names_is_refused()
    {
        var items = Parse("""
            [{"worker": "a", "event": 1, "priority": "high"}, {"worker": "a", "event": 2, "priority": "low"},
             {"worker": "a", "event": 3, "priority": "normal"}, {"worker": "a", "event": 4, "priority": null},
             {"worker": "a", "event": 5}]
            """).Items!;
        Assert.Equal([Priority.High, Priority.Low, Priority.Normal, Priority.Normal, Priority.Normal],
            items.Select(i => i.Priority));
        foreach (var bad in new[] { "\"HIGH\"", "\"urgent\"", "1", "\"\"", "\"high\\u0000\"" })
            Assert.Equal("Item 0: \"priority\" must be 'high', 'normal' (the default) or 'low'.",
                Parse($$"""[{"worker": "a", "event": 1, "priority": {{bad}}}]""").Error);
    }

    [Theory]
    [InlineData(null, 1.0, null, null, "debounceKey is missing")]
    [InlineData("", 1.0, null, null, "debounceKey: the debounce key must be")]
    [InlineData("k", null, null, null, "debounceSeconds is missing")]
    [InlineData("k", 0.0, null, null, "debounceSeconds must be over 0")]
    [InlineData("k", 86_400.5, null, null, "debounceSeconds must be over 0")]
    [InlineData("k", double.NaN, null, null, "debounceSeconds must be over 0")]
    [InlineData("k", 5.0, "Leading", null, "debounceMode must be")]
    [InlineData("k", 5.0, null, 4.0, "debounceMaxSeconds must be at least debounceSeconds")]
    [InlineData("k", 5.0, null, 2_592_001.0, "debounceMaxSeconds must be at least debounceSeconds")]
    public void A_debounce_out_of_its_rules_is_a_problem_naming_the_field(
        string? key,
        double? seconds,
        string? mode,
        double? maxSeconds,
        string problem)
    {
        var (debounce, error) = Debounces.Parse(key, seconds, mode, maxSeconds);
        Assert.Null(debounce);
        Assert.StartsWith(problem, error);
    }

    [Fact]
    public void A_debounce_caps_trailing_at_ten_periods_unless_told_and_none_given_is_none()
    {
        Assert.Equal((null, null), Debounces.Parse(null, null, null, null));
        Assert.Equal(TimeSpan.FromSeconds(30), Debounces.Parse("k", 3, null, null).Debounce!.Max);
        Assert.Equal(TimeSpan.FromDays(10), Debounces.Parse("k", 86_400, "trailing", null).Debounce!.Max);
        Assert.Null(Debounces.Problem(Debounce.Of("k", TimeSpan.FromSeconds(1))));
        Assert.NotNull(Debounces.Problem(Debounce.Of("k", TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("null", null)]
    [InlineData(" {\"a\": [1, 2]} ", null)]
    [InlineData("", "The body is empty")]
    [InlineData("1 2", "The body is not valid JSON")]
    [InlineData("{\"a\":", "The body is not valid JSON")]
    public void A_single_emit_body_is_exactly_one_json_value(string body, string? problem)
    {
        var error = EventBatch.ValidateSingle(Encoding.UTF8.GetBytes(body));
        if (problem is null) Assert.Null(error);
        else Assert.StartsWith(problem, error);
    }
}
