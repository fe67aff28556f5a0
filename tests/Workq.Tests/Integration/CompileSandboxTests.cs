using Workq.Client;
using Workq.Tests.Scripting;

namespace Workq.Tests.Integration;

[Collection(CompileSandboxCollection.Name)]
public sealed class CompileSandboxTests(CompileSandboxCluster fixture)
{
    private readonly WorkqCluster cluster = fixture.Cluster;

    private Task<HttpResponseMessage> PutAsync(string canvas, string worker, string code) =>
        cluster.SendAsync(
            HttpMethod.Put,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"),
            cluster.AdminToken,
            new JsonObject { ["code"] = code }.ToJsonString());

    private static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        return problem;
    }

    [Fact]
    public async Task A_compile_bomb_answers_400_at_the_timeout_while_control_keeps_answering()
    {
        var (canvas, _) = await cluster.CreateCanvasAsync("bomb");
        await cluster.DeployAsync(canvas, "steady", "return 1;");

        var clock = Stopwatch.StartNew();
        var bomb = PutAsync(canvas, "bomb", CompileBomb.Code());
        var slowestGet = TimeSpan.Zero;
        var gets = 0;
        var deadline = CompileSandboxCluster.CompileTimeout + TimeSpan.FromSeconds(10);
        while (!bomb.IsCompleted && clock.Elapsed < deadline)
        {
            var get = Stopwatch.StartNew();
            await cluster.WorkerAsync(canvas, "steady");
            slowestGet = TimeSpan.FromTicks(Math.Max(slowestGet.Ticks, get.Elapsed.Ticks));
            gets++;
            await Task.WhenAny(bomb, Task.Delay(100));
        }
        using var response = await bomb.WaitAsync(TimeSpan.FromSeconds(1));
        var elapsed = clock.Elapsed;

        var detail = (await ProblemAsync(response, HttpStatusCode.BadRequest))["detail"]!.GetValue<string>();
        Assert.Contains("compile took too long", detail);
        Assert.Contains("2 s (WORKQ_COMPILE_TIMEOUT_SECONDS)", detail);
        Assert.InRange(
            elapsed,
            CompileSandboxCluster.CompileTimeout,
            CompileSandboxCluster.CompileTimeout + TimeSpan.FromSeconds(5));
        Assert.True(gets >= 3, $"only {gets} GETs while the bomb compiled");
        Assert.True(slowestGet < TimeSpan.FromSeconds(1), $"a GET took {slowestGet} while the bomb compiled");
        Assert.Equal(404, (int)(await cluster.SendAsync(
            HttpMethod.Get,
            cluster.ControlUrl($"/v1/canvases/{canvas}/workers/bomb"),
            cluster.AdminToken)).StatusCode);

        // The killed compiler is replaced: ordinary deploys work, and so do compile errors.
        var after = Stopwatch.StartNew();
        Assert.Equal(
            2,
            (await cluster.DeployAsync(canvas, "steady", "return 2;", expect: 200)).As<Worker>().Version);
        Assert.True(after.Elapsed < TimeSpan.FromSeconds(5), $"the deploy after the bomb took {after.Elapsed}");
        using var broken = await PutAsync(canvas, "broken", "return nope;");
        var error = Assert.Single((await ProblemAsync(broken, HttpStatusCode.BadRequest)).As<Problem>().Errors!);
        Assert.Equal(8, error.Column);
        Assert.StartsWith("CS0103", error.Message);
    }

    [Fact]
    public async Task Compiles_beyond_the_limit_at_once_answer_503_with_Retry_After()
    {
        var (canvas, _) = await cluster.CreateCanvasAsync("busy");
        const int bombs = CompileSandboxCluster.Compilers + 3;

        var responses = await Task.WhenAll(
            Enumerable.Range(0, bombs).Select(i => PutAsync(canvas, $"bomb-{i}", CompileBomb.Code())));

        try
        {
            var timedOut = responses.Where(r => r.StatusCode == HttpStatusCode.BadRequest).ToList();
            var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
            Assert.True(timedOut.Count == CompileSandboxCluster.Compilers
                && busy.Count == bombs - CompileSandboxCluster.Compilers,
                $"answers: {string.Join(", ", responses.Select(r => (int)r.StatusCode))}");
            foreach (var response in timedOut)
                Assert.Contains(
                    "compile took too long",
                    (await ProblemAsync(response, HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
            foreach (var response in busy)
            {
                Assert.Contains(
                    "WORKQ_MAX_CONCURRENT_COMPILES",
                    (await ProblemAsync(response, HttpStatusCode.ServiceUnavailable))["detail"]!.GetValue<string>());
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
            }
        }
        finally
        {
            foreach (var response in responses) response.Dispose();
        }
        await cluster.DeployAsync(canvas, "after", "return 1;");
    }

    [Fact]
    public async Task Code_is_limited_in_UTF8_bytes_with_413()
    {
        var (canvas, _) = await cluster.CreateCanvasAsync("size");
        const int limit = 65_536;
        const string statement = "return 1;\n//";
        // Two bytes per 'é': under the limit in characters, over it in bytes.
        var overInBytes = statement + new string('é', (limit - statement.Length) / 2 + 1);
        var atTheLimit = statement + new string('x', limit - statement.Length);

        using var over = await PutAsync(canvas, "over", overInBytes);
        using var huge = await PutAsync(canvas, "huge", new string('x', 2 * 1_048_576));

        Assert.True(overInBytes.Length < limit);
        Assert.Contains(
            "65536 bytes",
            (await ProblemAsync(over, HttpStatusCode.RequestEntityTooLarge))["detail"]!.GetValue<string>());
        Assert.Contains(
            "WORKQ_MAX_CODE_BYTES",
            (await ProblemAsync(huge, HttpStatusCode.RequestEntityTooLarge))["detail"]!.GetValue<string>());
        await cluster.DeployAsync(canvas, "at-the-limit", atTheLimit);
    }

    [Fact]
    public async Task Compiler_processes_run_without_controls_environment_and_with_a_bounded_heap()
    {
        var compilers = await cluster.EventuallyAsync(
            () => Task.FromResult(ProcessSample.Children(cluster.Control.Id, "Workq.Compiler.dll")),
            c => c.Count == CompileSandboxCluster.Compilers,
            TimeSpan.FromSeconds(
                30),
            $"{CompileSandboxCluster.Compilers} compiler processes under control");

        foreach (var pid in compilers)
        {
            var environment = File.ReadAllText($"/proc/{pid}/environ")
                .Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(v => v.Split('=', 2))
                .ToDictionary(v => v[0], v => v[1]);
            Assert.DoesNotContain(environment.Keys, k => k.StartsWith("WORKQ_", StringComparison.Ordinal));
            Assert.Equal("0x20000000", environment["DOTNET_GCHeapHardLimit"]);
        }
        Assert.Contains("WORKQ_ADMIN_TOKEN=", File.ReadAllText($"/proc/{cluster.Control.Id}/environ"));
    }
}
