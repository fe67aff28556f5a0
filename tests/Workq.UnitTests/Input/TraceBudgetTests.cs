using System.Text;
using System.Text.Json;
using Workq.Worker.Recording;
using Workq.Worker.Runs;

namespace Workq.UnitTests.Input;

/// <summary>
/// WORKQ_MAX_TRACE_BYTES over a run's result, error and logs together; each field cut is marked and named.
/// </summary>
public sealed class TraceBudgetTests
{
    private const int Budget = 65_536;

    private static HandlerOutcome Ran(string? resultJson = null, string? error = null, params string[] logs) =>
        new(error is null ? RunOutcome.Completed : RunOutcome.Failed, TimeSpan.Zero,
            resultJson is null ? null : TraceResult.From(Encoding.UTF8.GetBytes(resultJson)), ErrorType: error is null
                ? null
                : "Exception",
            ErrorMessage: error, Logs: logs);

    private static long Size(
        KeptRun kept) => Encoding.UTF8.GetByteCount(kept.ResultJson ?? "")
            + Encoding.UTF8.GetByteCount(kept.ErrorType ?? "")
            + Encoding.UTF8.GetByteCount(kept.ErrorMessage ?? "")
            + kept.Logs.Sum(l => Encoding.UTF8.GetByteCount(l));

    [Fact]
    public void What_fits_is_kept_whole_up_to_the_byte()
    {
        // A JSON string of n characters is n + 2 bytes; with the type's 9 and the log line, exactly the budget.
        var atCap = Ran(
            JsonSerializer.Serialize(new string('r', 30_000 - 2)),
            new string('e', 20_000 - 9),
            new string('l', Budget - 50_000));
        var kept = TraceBudget.Apply(atCap, Budget);
        Assert.Equal(Budget, Size(kept));
        Assert.Empty(kept.Truncated);
        Assert.Equal(30_000 - 2, JsonNode.Parse(kept.ResultJson!)!.GetValue<string>().Length);

        // One byte more: the largest field gives it up.
        var overByOne = TraceBudget.Apply(
            Ran(
                JsonSerializer.Serialize(new string('r', 30_000 - 2)),
                new string('e', 20_000 - 9),
                new string('l', Budget - 50_000 + 1)), Budget);
        Assert.Equal(["result"], overByOne.Truncated);
        Assert.Equal(new string('e', 20_000 - 9), overByOne.ErrorMessage);
    }

    [Fact]
    public void A_huge_result_becomes_a_marked_string_of_its_start_and_the_others_stay_whole()
    {
        var kept = TraceBudget.Apply(
            Ran(JsonSerializer.Serialize(new { big = new string('x', 2_000_000) }), null, "saw it"),
            Budget);
        Assert.Equal(["result"], kept.Truncated);
        var result = JsonNode.Parse(kept.ResultJson!)!.GetValue<string>();
        Assert.StartsWith("{\"big\":\"xxx", result);
        Assert.EndsWith($"… [truncated at WORKQ_MAX_TRACE_BYTES ({Budget} bytes)]", result);
        Assert.Equal(["saw it"], kept.Logs);
        Assert.True(Size(kept) <= Budget + 200, $"{Size(kept)} bytes kept");
    }

    [Fact]
    public void Three_huge_fields_share_the_budget_and_each_is_marked()
    {
        var logs = Enumerable.Range(0, 100).Select(_ => new string('l', 2_000)).ToArray();
        var kept = TraceBudget.Apply(
            Ran("\"" + new string('r', 1_000_000) + "\"", new string('e', 2_000_000), logs),
            Budget);
        Assert.Equal(["result", "error", "logs"], kept.Truncated);
        Assert.True(Size(kept) <= Budget + 200, $"{Size(kept)} bytes kept");
        Assert.True(
            Encoding.UTF8.GetByteCount(kept.ErrorMessage!) > Budget / 4,
            "the error got less than a fair share");
        Assert.EndsWith("bytes)]", kept.ErrorMessage);
        Assert.StartsWith("[truncated at WORKQ_MAX_TRACE_BYTES", kept.Logs[^1]);
        Assert.Contains("of 200000 bytes of logs left out", kept.Logs[^1]);
        Assert.StartsWith("Exception: eee", kept.Error);
    }

    [Fact]
    public void A_small_field_leaves_its_share_to_the_large_ones()
    {
        var kept = TraceBudget.Apply(
            Ran("1", "small", Enumerable.Range(0, 100).Select(_ => new string('l', 2_000)).ToArray()),
            Budget);
        Assert.Equal(["logs"], kept.Truncated);
        Assert.Equal("1", kept.ResultJson);
        Assert.Equal("small", kept.ErrorMessage);
        Assert.True(
            kept.Logs.Sum(l => l.Length) > Budget - 1_000,
            $"the logs kept {kept.Logs.Sum(l => l.Length)} bytes");
    }

    [Fact]
    public void A_runners_result_that_is_not_one_json_value_is_kept_as_a_string()
    {
        Assert.Equal("\"{not json\"", TraceBudget.Apply(Ran("{not json"), Budget).ResultJson);
        Assert.Null(TraceBudget.Apply(Ran("null"), Budget).ResultJson);
        Assert.Equal("[1,{\"a\":\"\\ud800\"}]", TraceBudget.Apply(Ran("[1,{\"a\":\"\\ud800\"}]"), Budget).ResultJson);
    }

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair()
    {
        Assert.Equal("ab", TraceBudget.Cut("ab\ud83d\ude00", 5));
        Assert.Equal("ab\ud83d\ude00", TraceBudget.Cut("ab\ud83d\ude00c", 6));
        Assert.Equal("é", TraceBudget.Cut("éé", 3));
    }
}
