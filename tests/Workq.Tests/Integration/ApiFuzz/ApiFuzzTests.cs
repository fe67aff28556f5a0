using CsCheck;

namespace Workq.Tests.Integration.ApiFuzz;

/// <summary>
/// The API fuzz suite (issue 25): every operation of the control and emitter OpenAPI documents, called with requests
/// CsCheck generates from their parameters and body schemas, valid and hostile. Each answer must be below 500, a 4xx
/// must be problem+json, none may take longer than 2 s (a long-poll: its wait on top), and every service must still be
/// ready at the end. <c>WORKQ_FUZZ_CASES</c> runs more cases than CI's, <c>WORKQ_FUZZ_SEED</c> another seed (a CsCheck
/// seed, printed by every run).
/// </summary>
[Collection(ApiFuzzCollection.Name)]
public sealed class ApiFuzzTests(WorkqCluster cluster, ITestOutputHelper output)
{
    private const string DefaultSeed = "0000000000J1";
    private const int DefaultCases = 2_500;
    private const int Concurrency = 6;

    /// <summary>A failure: the request, and what was wrong with its answer.</summary>
    private sealed record Finding(FuzzRequest Request, string What);

    [Fact]
    public async Task Generated_requests_to_every_operation_answer_below_500_with_problem_json_in_time()
    {
        var seed = Environment.GetEnvironmentVariable("WORKQ_FUZZ_SEED") is { Length: > 0 } chosen
            ? chosen
            : DefaultSeed;
        var cases = int.TryParse(Environment.GetEnvironmentVariable("WORKQ_FUZZ_CASES"), out var asked) && asked > 0
            ? asked
            : DefaultCases;
        output.WriteLine($"API fuzz: seed {seed} (WORKQ_FUZZ_SEED), {cases} cases (WORKQ_FUZZ_CASES)");

        var control = (await cluster.JsonAsync(HttpMethod.Get, cluster.ControlUrl("/openapi/v1.json"), token: null))!;
        var emitter = (await cluster.JsonAsync(HttpMethod.Get, cluster.EmitUrl("/openapi/v1.json"), token: null))!;
        var operations = ApiOperation.Read(control, "control", cluster.Control.Url)
            .Concat(ApiOperation.Read(emitter, "emitter", cluster.Emitter.Url))
            .OrderBy(o => o.Service)
            .ThenBy(o => o.Path)
            .ThenBy(o => o.Method)
            .ToList();
        Assert.True(operations.Count >= 30, $"only {operations.Count} operations in the OpenAPI documents");
        Assert.Contains(operations, o => o.BodySchema is not null);
        Assert.Contains(operations, o => o.Parameters.Any(p => p.In == "query"));

        var generator = new RequestGenerator(await SetUpAsync(), PCG.Parse(seed));
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(90) };
        // Compiles are few at once by design (WORKQ_MAX_CONCURRENT_COMPILES; past it a documented 503): deploys go one
        // at a time.
        using var compiles = new SemaphoreSlim(1, 1);
        var findings = new ConcurrentBag<Finding>();
        var slow = new ConcurrentBag<FuzzRequest>();
        var statuses = new ConcurrentDictionary<(string Operation, int Status), int>();
        var slowest = TimeSpan.Zero;
        var unsendable = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();

        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var number = Interlocked.Increment(ref next);
                if (number >= cases) return;
                FuzzRequest request;
                // One generator, drawn in case order: a seed names the same requests however the sends interleave.
                lock (generator) request = generator.Next(number, operations[number % operations.Count]);
                var deploy = request.Operation is { Method: "PUT", Path: "/v1/canvases/{canvas}/workers/{worker}" };
                if (deploy) await compiles.WaitAsync();
                try
                {
                    var (status, took, finding) = await SendAsync(http, request);
                    if (status is null)
                    {
                        Interlocked.Increment(ref unsendable);
                        continue;
                    }
                    statuses.AddOrUpdate((request.Operation.Name, status.Value), 1, (_, n) => n + 1);
                    if (finding is not null) findings.Add(new Finding(request, finding));
                    // The first pass over the operations is each route's first call in these services (JIT, first
                    // connections): not timed.
                    if (number < operations.Count) continue;
                    lock (findings) if (took > slowest) slowest = took;
                    if (took > request.Budget) slow.Add(request);
                }
                finally
                {
                    if (deploy) compiles.Release();
                }
            }
        })));

        output.WriteLine($"{cases} cases over {operations.Count} operations in {clock.Elapsed.TotalSeconds:0.0} s "
            + $"({unsendable} not sendable by HttpClient); " +
            $"slowest answer {slowest.TotalMilliseconds:0} ms");
        // A slow answer is sent again, alone: this machine is shared, and six requests at once beside other work can
        // stall any process for a moment. A request that is slow by itself is slow again, and is a finding.
        foreach (var request in slow.OrderBy(r => r.Case))
        {
            var (_, took, _) = await SendAsync(http, request);
            output.WriteLine(
                $"slow #{request.Case} {request.Operation.Name}: again alone in {took.TotalMilliseconds:0} ms");
            if (took > request.Budget)
                findings.Add(new Finding(
                    request,
                    $"took {took.TotalMilliseconds:0} ms, over {request.Budget.TotalSeconds:0.#} s "
                    + "(also sent again alone)"));
        }
        foreach (var operation in operations)
            output.WriteLine($"  {operation.Service,-7} {operation.Name,-70} " +
                string.Join(" ", statuses.Where(s => s.Key.Operation == operation.Name).OrderBy(s => s.Key.Status)
                    .Select(s => $"{s.Key.Status}×{s.Value}")));
        var ready = await NotReadyAsync(http);
        var report = findings.GroupBy(f => (f.Request.Operation.Name, Kind: f.What.Split('\n')[0]))
            .Select(g => (Count: g.Count(), g.Key, First: g.OrderBy(f => f.Request.Case).First()))
            .Select(g =>
                $"{g.Count}× {g.Key.Name}: {g.Key.Kind}\n  first: {g.First.Request}\n  answer: {g.First.What}")
            .ToList();
        foreach (var line in report) output.WriteLine(line);
        Assert.True(report.Count == 0 && ready.Count == 0,
            $"seed {seed}: {findings.Count} bad answers in {report.Count} kinds; "
            + $"not ready afterwards: {string.Join(", ", ready)}\n" +
            $"{string.Join("\n", report)}\n{cluster.Logs()}");
    }

    /// <summary>
    /// Sends one request: its status and time, and what is wrong with the answer but its time (null when nothing); no
    /// status when HttpClient would not send it.
    /// </summary>
    private static async Task<(int? Status, TimeSpan Took, string? Finding)> SendAsync(
        HttpClient http,
        FuzzRequest request)
    {
        var clock = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            var url = request.Operation.BaseUrl + request.PathAndQuery.TrimStart('/');
            using var message = new HttpRequestMessage(new HttpMethod(request.Operation.Method), url);
            foreach (var (name, value) in request.Headers) message.Headers.TryAddWithoutValidation(name, value);
            if (request.Body is not null)
            {
                // A large body waits for the service's go-ahead: a service that refuses it early (413, 414) is then
                // heard, not cut off mid-send.
                message.Headers.ExpectContinue = request.Body.Length > 64 * 1024;
                message.Content = new ByteArrayContent(request.Body);
                if (request.ContentType is not null) message.Content.Headers
                    .TryAddWithoutValidation("Content-Type", request.ContentType);
            }
            clock.Restart();
            response = await http.SendAsync(message);
        }
        catch (Exception e) when (Unsendable(e))
        {
            return (null, TimeSpan.Zero, null);
        }
        catch (Exception e)
        {
            return (0, clock.Elapsed, $"no answer: {e.GetType().Name}: {e.Message}");
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync();
            var took = clock.Elapsed;
            var status = (int)response.StatusCode;
            var text = RequestGenerator.Printable(Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 600))));
            if (status >= 500) return (status, took, $"{status}\n{text}");
            if (status >= 400 && Problem(response, body, status) is { } notProblem)
                return (status, took, $"{status} is not problem+json: {notProblem}\n{text}");
            return (status, took, null);
        }
    }

    /// <summary>
    /// Header values HttpClient itself refuses (new lines), or a URL it cannot hold: the request never reached the
    /// service.
    /// </summary>
    private static bool Unsendable(Exception e) =>
        e is UriFormatException
        || (e is HttpRequestException or InvalidOperationException or FormatException
            && e.Message.Contains("header", StringComparison.OrdinalIgnoreCase));

    /// <summary>Null when the answer is an RFC 9457 problem with its status; else what is wrong.</summary>
    private static string? Problem(HttpResponseMessage response, byte[] body, int status)
    {
        if (response.Content.Headers.ContentType?
            .MediaType != "application/problem+json") return $"Content-Type {response.Content.Headers.ContentType}";
        try
        {
            return JsonNode.Parse(body)?["status"]?.GetValue<int>() == status ? null : "its status is not the answer's";
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return $"not JSON ({e.Message})";
        }
    }

    /// <summary>The services whose /readyz is not 200 after the run.</summary>
    private async Task<List<string>> NotReadyAsync(HttpClient http)
    {
        var notReady = new List<string>();
        foreach (var service in cluster.Workers.Where(w => !w.HasExited).Append(cluster.Dispatcher)
            .Append(cluster.Emitter)
            .Append(cluster.Control))
        {
            try
            {
                using var response = await http.GetAsync(new Uri(service.Url, "readyz"));
                if (response.StatusCode != HttpStatusCode.OK) notReady.Add(
                    $"{service.Name} ({(int)response.StatusCode})");
            }
            catch (HttpRequestException e)
            {
                notReady.Add($"{service.Name} ({e.Message})");
            }
        }
        return notReady;
    }

    /// <summary>
    /// A canvas with a worker that fails (and, by its retry policy, dead-letters) events holding a "fail" field, with
    /// that field in its error, a cron, and events whose text holds NUL and lone surrogates: traced, dead-lettered and
    /// parked, for the reads to meet.
    /// </summary>
    private async Task<FuzzTargets> SetUpAsync()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("fuzz");
        const string worker = "fuzz", cron = "fuzz-cron";
        await cluster.JsonAsync(HttpMethod.Put, cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"), cluster
            .AdminToken, new JsonObject
            {
                ["code"] = """
                var fail = Event?["fail"];
                Log("event " + (Event?.ToJsonString() ?? "null"));
                if (fail is not null)
                    throw new InvalidOperationException(fail.GetValueKind() == System.Text.Json.JsonValueKind.String
                        ? fail.GetValue<string>()
                        : fail.ToJsonString());
                return Event;
                """,
                ["retry"] = new JsonObject { ["maxAttempts"] = 1 },
            }.ToJsonString(), expect: 201);
        await cluster.JsonAsync(
            HttpMethod.Put,
            cluster.ControlUrl($"/v1/canvases/{canvas}/crons/{cron}"),
            cluster.AdminToken,
            """{"schedule": "0 3 * * *", "worker": "fuzz", "event": {"text": "a\u0000b"}}""",
            expect: 201);
        var ids = new List<Guid>();
        string[] payloads =
            [
                @"{""fail"": ""nul \u0000 here""}", @"{""fail"": ""lone \ud800 here""}", @"{""ok"": ""nul \u0000""}",
                @"{""ok"": ""lone \udc00""}", "[1, 2]",
            ];
        foreach (var payload in payloads)
            ids.Add(await cluster.EmitAsync(canvas, worker, payload));
        ids.Add(await cluster.EmitAsync(canvas, "ghost", @"{""parked"": ""\u0000\ud800""}"));
        // The two failing events dead-lettered, for the reads to find (reading them may fail: that is what the run
        // looks for).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await cluster.SendAsync(
                HttpMethod.Get,
                cluster.ControlUrl($"/v1/canvases/{canvas}/workers/{worker}"),
                cluster.AdminToken);
            var answer = response.IsSuccessStatusCode
                ? JsonNode.Parse(await response.Content.ReadAsStringAsync())
                : null;
            if (answer?["stats"]?["deadLettered"]?.GetValue<long>() >= 2) break;
            await Task.Delay(100);
        }
        return new FuzzTargets(cluster.AdminToken, canvas, token, worker, cron, ids);
    }
}
