using System.Text.Json;
using System.Text.RegularExpressions;

namespace Workq.UnitTests.Scripting;

/// <summary>
/// Handler code the repository deploys (its docs' examples, the dashboard's template, and a representative set of the
/// code the integration tests and the benchmark deploy) still compiles under the guard.
/// </summary>
public sealed partial class DeployedHandlerCodeTests
{
    public static TheoryData<string, string> Documented()
    {
        var data = new TheoryData<string, string>();
        var readme = Read("README.md");
        foreach (Match code in JsonCode().Matches(readme)) data.Add(
            "README.md, curl",
            JsonSerializer.Deserialize<string>($"\"{code.Groups[1].Value}\"")!);
        foreach (Match code in RawLiteral().Matches(readme)) data.Add("README.md, client", code.Groups[1].Value);
        foreach (Match printf in PrintfLines().Matches(readme))
            data.Add(
                "README.md, CLI",
                string.Join("\n", QuotedLine().Matches(printf.Groups[1].Value).Select(m => m.Groups[1].Value)));
        foreach (Match block in CSharpBlock().Matches(Read("docs/API.md")))
        {
            // Client code is not handler code.
            if (!block.Groups[1].Value.Contains("using Workq.Client", StringComparison.Ordinal)) data.Add(
                "docs/API.md",
                block.Groups[1].Value);
        }

        var template = DashboardTemplate().Match(Read("services/control/wwwroot/app.js"));
        data.Add(
            "dashboard template",
            string.Join("\n", QuotedJsLine().Matches(template.Groups[1].Value).Select(m => m.Groups[1].Value)));
        return data;
    }

    [Theory]
    [MemberData(nameof(Documented))]
    public void Documented_examples_compile(string where, string code)
    {
        var result = Scripts.Compiler.Compile(code);
        using var handler = result.Handler;

        Assert.True(result.Succeeded, $"{where}:\n{code}\n{string.Join("\n", result.Errors)}");
    }

    [Fact]
    public void The_docs_have_examples_to_check()
    {
        var sources = Documented().Select(row => (string)row[0]).Distinct().ToList();

        Assert.Equal(
            ["README.md, curl", "README.md, client", "README.md, CLI", "docs/API.md", "dashboard template"],
            sources);
    }

    [Theory]
    // tests/Workq.Tests: Integration/OrderingKeyTests.cs (RecordCode), with the sink's address filled in.
    [InlineData("""
        var k = (string)Event!["k"]!;
        var n = (int)Event["n"]!;
        using (var r = await Http.PostAsync(
            "http://sink.invalid/", new StringContent($"start|{k}|{n}|{Meta.Attempt}"), CancellationToken)) { }
        await Task.Delay(0, CancellationToken);
        using (var r = await Http.PostAsync(
            "http://sink.invalid/", new StringContent($"end|{k}|{n}|{Meta.Attempt}"), CancellationToken)) { }
        return n;
        """)]
    // Integration/OrderingKeyTests.cs: refused ordering keys.
    [InlineData("""
        foreach (var key in new[] { new string('k', 10_000), "", "a\u0001b", "a\nb" })
        {
            try { await Emit("t", "never", orderingKey: key); }
            catch (ArgumentException e)
            {
                var refusal = new StringContent($"refused|{e.Message}");
                using (var r = await Http.PostAsync("http://sink.invalid/", refusal, CancellationToken)) { }
            }
        }
        for (var n = 0; n < 10; n++) await Emit("t", n, orderingKey: "../0/t");
        return null;
        """)]
    // README.md, "Durable handlers": the order workflow.
    [InlineData("""
        var order = Event!["order"]!.GetValue<string>();
        var charge = await Step("charge", async () =>
        {
            var body = System.Text.Json.JsonSerializer.Serialize(new { order, idempotencyKey = $"charge-{Meta.Id}" });
            using var paid = await Http.PostAsync("https://pay.example.com/charges", new StringContent(body),
                CancellationToken);
            return JsonNode.Parse(await paid.Content.ReadAsStringAsync(CancellationToken))!["id"]!.GetValue<string>();
        });
        await Sleep(TimeSpan.FromMinutes(10));
        var shipment = await WaitFor("shipped", TimeSpan.FromDays(1));
        if (shipment is null) return new { order, charge, status = "not shipped in a day" };
        await Step("notify", async () => await Emit("email", new { order, tracking = shipment["tracking"] }));
        return new { order, charge, tracking = shipment["tracking"] };
        """)]
    // Integration/DurableTests.cs and Client/WorkqClientDurableTests.cs: a wait, and steps with and without a result.
    [InlineData("""
        var v = await WaitFor("go", TimeSpan.FromMinutes(5));
        await Step("a", async () => { await Task.Delay(1, CancellationToken); });
        var n = await Step("b", async () => 42);
        await SleepUntil(DateTimeOffset.UtcNow.AddSeconds(1));
        return new { v, n, Meta.Resume };
        """)]
    // Integration/CoreEventPathTests.cs: fan-out.
    [InlineData("""
        var n = Event!["n"]!.GetValue<int>();
        await Task.WhenAll(
            n < 2 ? Emit("fan", new { n = n + 1 }) : Task.FromResult(Guid.Empty),
            Emit("sink", new { from = n }));
        return n;
        """)]
    // Integration/CoreEventPathTests.cs: Meta.
    [InlineData(
        "return new { id = Meta.Id, canvas = Meta.Canvas, worker = Meta.Worker, attempt = Meta.Attempt, depth = "
        + "Meta.Depth, enqueuedAt = Meta.EnqueuedAt, isNull = Event is null };")]
    // Integration/DelayedEmitTests.cs, Integration/QueueControlTests.cs.
    [InlineData("await Emit(\"sink\", Event, delay: TimeSpan.FromSeconds(2)); return null;")]
    [InlineData("""
        await Task.Delay(1000, CancellationToken);
        var ran = new StringContent($"{Meta.Id} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        using (var r = await Http.PostAsync("http://sink.invalid/", ran, CancellationToken)) { }
        return null;
        """)]
    // Integration/DeadLetterSearchTests.cs, Integration/FailureTests.cs.
    [InlineData("""throw new InvalidOperationException($"card declined for {Event["customer"]}");""")]
    [InlineData("await Emit(\"chain\", Meta.Depth + 1);\nreturn Meta.Depth;")]
    // Integration/LiveStatsTests.cs.
    [InlineData("""
        while (await Http.GetStringAsync("http://sink.invalid/gate", CancellationToken) != "open")
            await Task.Delay(20, CancellationToken);
        var id = new StringContent(Meta.Id.ToString());
        using (var response = await Http.PostAsync("http://sink.invalid/", id, CancellationToken)) { }
        return null;
        """)]
    // Security/HostileTenant.cs and HostileTenantTests.cs: refused at run time (egress policy, regex time-out), not at
    // deploy.
    [InlineData("""
        var secret = Event!["secret"]!.GetValue<string>();
        Log($"handled {secret}");
        return new { secret, n = Event["n"]!.GetValue<int>() };
        """)]
    [InlineData("return await Http.GetStringAsync(\"http://127.0.0.1:15672/api/queues\", CancellationToken);")]
    [InlineData("return System.Text.RegularExpressions.Regex.IsMatch(new string('a', 40) + \"!\", \"^(a+)+$\");")]
    [InlineData("""
        var ids = new List<string> { (await Emit("0", new { secret = "forged", n = -1 })).ToString() };
        try { await Emit("workq.canvas.0", new { secret = "forged" }); }
        catch (ArgumentException e) { ids.Add(e.Message); }
        return ids;
        """)]
    // Isolation/NoisyNeighbourTests.cs and RunnerSemanticsTests.cs: crashes, spins and hogs the runner contains.
    [InlineData("int Down(int n) => n == 0 ? 0 : 1 + Down(n - 1); return Down(100_000_000);")]
    [InlineData("async Task Later() { await Task.Delay(100); throw new Exception(\"late\"); } _ = Later(); return 1;")]
    [InlineData(
        "var held = new List<byte[]>(); for (var i = 0; i < 4096; i++) held.Add(new byte[1 << 20]); "
        + "return held.Count;")]
    [InlineData(
        "var until = DateTime.UtcNow.AddSeconds(1); long spins = 0; while (DateTime.UtcNow < until) spins++; "
        + "return spins;")]
    [InlineData("string? missing = null; ArgumentNullException.ThrowIfNull(missing); return 1;")]
    [InlineData("""
        var child = await Emit("leaf", new { from = Meta.Id });
        try { await Emit("not a name!", 1); } catch (ArgumentException e) { Log($"refused: {e.GetType().Name}"); }
        return child;
        """)]
    // Quotas/QuotaTests.cs.
    [InlineData(
        "for (var i = 0; i < 100; i++) { try { await Emit(\"child\", new { i }); } "
        + "catch (InvalidOperationException) { } }\nreturn \"got away with it\";")]
    // tests/Workq.UnitTests: HandlerGlobalsTests.cs (work left running after the run) and UnloadTests.cs.
    [InlineData("""
        var started = new TaskCompletionSource();
        async Task<string> Later()
        {
            started.SetResult();
            while (true) { try { _ = Http; await Task.Delay(5); } catch (ObjectDisposedException) { break; } }
            try { await Emit("w", 1); return "emitted"; } catch (InvalidOperationException e) { return e.Message; }
        }
        var later = Later();
        await started.Task;
        return later;
        """)]
    [InlineData("record R(int N); return new R(1);")]
    // Client/WorkqClientDurableTests.cs, Client/CliTests.cs, Dashboard/DurableDashboardTests.cs: runs until cancelled.
    [InlineData("await Task.Delay(Timeout.Infinite, CancellationToken); return 1;")]
    public void Code_the_repository_deploys_compiles(string code)
    {
        var result = Scripts.Compiler.Compile(code);
        using var handler = result.Handler;

        Assert.True(result.Succeeded, $"{code}\n{string.Join("\n", result.Errors)}");
    }

    /// <summary>
    /// The queue-wait handlers bench/Workq.Bench deploys (Scenarios/WorkqScenarios.cs, RunnerScenario.cs).
    /// </summary>
    public static TheoryData<string> BenchHandlers() =>
        [QueueWaitHandlers.EachEvent("http://sink.invalid/"), QueueWaitHandlers.Batched("http://sink.invalid/")];

    [Theory]
    [MemberData(nameof(BenchHandlers))]
    public void The_bench_handlers_compile(string code) => Code_the_repository_deploys_compiles(code);

    private static string Read(string path) => File.ReadAllText(Path.Combine(RepoPaths.Root, path));

    [GeneratedRegex(@"\{""code"": ""((?:[^""\\]|\\.)*)""")]
    private static partial Regex JsonCode();

    [GeneratedRegex("\"\"\"(.+?)\"\"\"")]
    private static partial Regex RawLiteral();

    [GeneratedRegex(@"printf '%s\\n' ((?:'[^']*'[\s\\]*)+)>")]
    private static partial Regex PrintfLines();

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex QuotedLine();

    [GeneratedRegex("```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"const template = \[(.*?)\]\.join", RegexOptions.Singleline)]
    private static partial Regex DashboardTemplate();

    [GeneratedRegex(@"^\s*'((?:[^'\\]|\\.)*)',", RegexOptions.Multiline)]
    private static partial Regex QuotedJsLine();
}
