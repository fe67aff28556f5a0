using Workq.Shared.Handlers.Scripting;

namespace Workq.UnitTests.Scripting;

public sealed class JsonResultTests
{
    [Fact]
    public void Null_stays_null() => Assert.Null(JsonResult.ToJson(null));

    [Fact]
    public void Json_nodes_are_kept_as_they_are()
    {
        var node = new JsonObject { ["a"] = 1 };

        Assert.Same(node, JsonResult.ToJson(node));
    }

    [Fact]
    public void Values_are_serialized()
    {
        Assert.Equal("6", JsonResult.ToJson(6)!.ToJsonString());
        Assert.Equal(
            """{"n":1,"tags":["a"]}""",
            JsonResult.ToJson(new { n = 1, tags = new[] { "a" } })!.ToJsonString());
        Assert.Equal("\"x\"", JsonResult.ToJson("x")!.ToJsonString());
    }

    [Fact]
    public void Cycles_fall_back_to_to_string()
    {
        var cycle = new Node();
        cycle.Next = cycle;

        Assert.Equal("\"a node\"", JsonResult.ToJson(cycle)!.ToJsonString());
    }

    [Fact]
    public void Unsupported_types_fall_back_to_to_string()
    {
        Assert.Equal("\"System.Action\"", JsonResult.ToJson(new Action(() => { }))!.ToJsonString());
    }

    [Fact]
    public void Throwing_getters_and_to_string_still_give_a_value()
    {
        Assert.Equal(
            "<Throwing: ToString threw InvalidOperationException>",
            JsonResult.ToJson(new Throwing())!.GetValue<string>());
    }

    [Fact]
    public void A_result_as_deep_as_an_event_is_written_and_a_deeper_one_becomes_a_string_saying_why()
    {
        static JsonNode Deep(
            int depth) => JsonNode.Parse(
                new string('[', depth) + new string(']', depth),
                documentOptions: new() { MaxDepth = 1_000 })!;

        Assert.Equal(new string('[', 250) + new string(']', 250), JsonResult.ToTraceJson(Deep(250)));
        Assert.StartsWith("\"[the result could not be written as JSON", JsonResult.ToTraceJson(Deep(400)));
    }

    public sealed class Node
    {
        public Node? Next { get; set; }

        public override string ToString() => "a node";
    }

    public sealed class Throwing
    {
        public int Value => throw new InvalidOperationException("getter");

        public override string ToString() => throw new InvalidOperationException("to string");
    }
}
