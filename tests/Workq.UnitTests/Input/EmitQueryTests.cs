using Microsoft.Extensions.Primitives;
using Workq.Emitter.Apis;

namespace Workq.UnitTests.Input;

/// <summary>
/// A single emit's query and headers (API.md "Emit", "Delayed emits", "Ordering keys"): one idempotency key, one of
/// <c>delaySeconds</c> and <c>runAt</c> up to 30 days ahead, an ordering key of 1 to 128 characters, and the caller's
/// traceparent.
/// </summary>
public sealed class EmitQueryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static EmitQuery Query(
        string? delaySeconds = null,
        string? runAt = null,
        string? orderingKey = null,
        StringValues? keys = null) =>
        new(delaySeconds, runAt, orderingKey, keys);

    [Fact]
    public void One_key_is_the_key_and_a_comma_in_it_is_part_of_it()
    {
        Assert.Equal(((string?)null, (string?)null), Query().ParseIdempotencyKey());
        Assert.Equal(("order-7", (string?)null), Query(keys: new StringValues("order-7")).ParseIdempotencyKey());
        // One header line "a,b" is one key; two header lines are two keys.
        Assert.Equal(("a,b", (string?)null), Query(keys: new StringValues("a,b")).ParseIdempotencyKey());
    }

    [Theory]
    [InlineData(2, "", "Idempotency-Key is given 2 times; it takes one key.")]
    [InlineData(1, "", "Idempotency-Key: the idempotency key is empty.")]
    [InlineData(1, "257", "Idempotency-Key: the idempotency key is longer than 256 characters.")]
    public void Two_keys_an_empty_one_or_a_long_one_is_a_problem_naming_the_header(
        int count,
        string key,
        string problem)
    {
        var value = key == "257" ? new string('k', 257) : key;
        var keys = count == 1 ? new StringValues(value) : new StringValues(["a", "b"]);
        Assert.Equal(((string?)null, problem), Query(keys: keys).ParseIdempotencyKey());
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("0", null, null)]
    [InlineData("1.5", null, 1.5)]
    [InlineData("2592000", null, 2_592_000.0)]
    [InlineData(null, "2026-12-01T13:00:00Z", 3600.0)]
    [InlineData(null, "2026-12-01T14:00:00 01:00", 3600.0)] // an unencoded '+' arrives as a space
    [InlineData(null, "2026-12-01T11:00:00Z", null)] // the past runs now
    public void A_delay_or_a_time_is_when_the_event_runs(string? delaySeconds, string? runAt, double? secondsFromNow)
    {
        var (at, problem) = Query(delaySeconds, runAt).ParseSchedule(Now);
        Assert.Null(problem);
        Assert.Equal(secondsFromNow is { } s ? Now.AddSeconds(s) : null, at);
    }

    [Theory]
    [InlineData("soon", null, null, "\"delaySeconds\" must be given once, as a number of seconds from 0 to 2592000.")]
    [InlineData("", null, null, "\"delaySeconds\" must be given once, as a number of seconds from 0 to 2592000.")]
    [InlineData("2592001", null, null, "more than 30 days")]
    [InlineData("-1", null, null, "\"delaySeconds\" must not be negative")]
    [InlineData(null, "2026-12-01", null, "\"runAt\" must be an ISO 8601 date and time with an offset")]
    [InlineData(null, "2026-12-01T13:00:00", null, "\"runAt\" must be an ISO 8601 date and time with an offset")]
    [InlineData("5", "2026-12-01T13:00:00Z", null, "not both")]
    [InlineData(null, null, "", "orderingKey: ")]
    [InlineData(null, null, "129", "orderingKey: ")]
    public void A_bad_delay_time_or_ordering_key_is_a_problem_naming_it(
        string? delaySeconds,
        string? runAt,
        string? orderingKey,
        string problem)
    {
        var (at, error) = Query(delaySeconds, runAt, orderingKey == "129" ? new string('o', 129) : orderingKey)
            .ParseSchedule(Now);
        Assert.Null(at);
        Assert.Contains(problem, error);
    }

    [Theory]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0", false)]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01", false)]
    [InlineData(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01,"
        + "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        false)]
    [InlineData(null, false)]
    public void Only_a_valid_w3c_traceparent_is_kept(string? header, bool kept) =>
        Assert.Equal(kept ? header : null, new EmitTrace(header).Parent);
}
