using System.Net.Sockets;

namespace Workq.Tests.Integration;

/// <summary>
/// API.md: every error is problem+json, including what Kestrel rejects itself before any middleware runs
/// (a bad request line, a header block over the limit, an invalid header). Raw bytes over TCP, since an
/// HTTP client cannot send such requests.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class KestrelRejectionTests(WorkqCluster cluster)
{
    private static readonly string BigHeader = "X-Big: " + new string('a', 40_000) + "\r\n";

    public static TheoryData<string, string, int, string> Rejections => new()
    {
        { "control", "GARBAGE\r\n\r\n", 400, "Invalid request line" },
        { "emitter", "GARBAGE\r\n\r\n", 400, "Invalid request line" },
        { "dispatcher", "GARBAGE\r\n\r\n", 400, "Invalid request line" },
        { "worker", "GARBAGE\r\n\r\n", 400, "Invalid request line" },
        { "control", $"GET /healthz HTTP/1.1\r\nHost: x\r\n{BigHeader}\r\n", 431, "headers too long" },
        { "emitter", $"GET /healthz HTTP/1.1\r\nHost: x\r\n{BigHeader}\r\n", 431, "headers too long" },
        { "control", "GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400, "Invalid request header" },
        { "emitter", "GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400, "Invalid request header" },
        { "emitter", "GET /healthz HTTP/1.1\r\n\r\n", 400, "missing Host header" },
        { "emitter", $"GET /{new string('a', 9_000)} HTTP/1.1\r\nHost: x\r\n\r\n", 414, "Request line too long" },
        { "emitter", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HTTP version" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task What_Kestrel_rejects_itself_answers_problem_json(
        string service,
        string request,
        int status,
        string detail)
    {
        await using var connection = await RawConnection.OpenAsync(Port(service));
        await connection.SendAsync(request);
        var response = await connection.ReadResponseAsync();
        AssertProblem(response, status, detail);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await connection.IsClosedAsync(), "the connection is closed after a rejection");
    }

    [Fact]
    public async Task A_rejected_HEAD_keeps_its_empty_answer()
    {
        await using var connection = await RawConnection.OpenAsync(cluster.Emitter.Port);
        await connection.SendAsync("HEAD /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
        var response = await connection.ReadResponseAsync();
        Assert.Equal(400, response.Status);
        Assert.Equal("0", response.Header("Content-Length"));
        Assert.True(await connection.IsClosedAsync(), "nothing follows the head");
    }

    [Fact]
    public async Task A_body_over_the_limit_answers_413_problem_json_on_emit_and_control()
    {
        var (canvas, token) = await cluster.CreateCanvasAsync("big");
        // Content-Length over the event limit and over Kestrel's own maximum (30 MB); no body bytes need follow.
        foreach (var (port, path) in new[] {
            (cluster.Emitter.Port, $"/v1/canvases/{canvas}/workers/w/events"),
            (cluster.Control.Port, "/v1/canvases") })
        {
            await using var connection = await RawConnection.OpenAsync(port);
            var bearer = port == cluster.Control.Port ? cluster.AdminToken : token;
            await connection.SendAsync($"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\n" +
                "Content-Type: application/json\r\nContent-Length: 40000000\r\n\r\n");
            AssertProblem(await connection.ReadResponseAsync(), 413, "larger than");
        }
    }

    [Fact]
    public async Task Unknown_routes_and_wrong_methods_answer_problem_json_with_a_detail()
    {
        foreach (var port in new[] { cluster.Control.Port, cluster.Emitter.Port })
        {
            await using var connection = await RawConnection.OpenAsync(port);
            await connection.SendAsync("GET /no/such/route HTTP/1.1\r\nHost: x\r\n\r\n");
            AssertProblem(await connection.ReadResponseAsync(), 404, "/no/such/route");
            await connection.SendAsync("DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            var wrongMethod = await connection.ReadResponseAsync();
            AssertProblem(wrongMethod, 405, "DELETE");
            Assert.Equal("GET", wrongMethod.Header("Allow"));
        }
    }

    [Fact]
    public async Task Keep_alive_and_pipelining_are_unaffected_and_a_late_rejection_follows_the_good_answers()
    {
        await using var connection = await RawConnection.OpenAsync(cluster.Emitter.Port);
        for (var i = 0; i < 3; i++)
        {
            await connection.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            var response = await connection.ReadResponseAsync();
            Assert.Equal(200, response.Status);
            Assert.Equal("ok", response.Body);
        }
        // Three pipelined in one write: two good ones answered in order, then the bad one's problem.
        await connection.SendAsync(
            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n");
        Assert.Equal("ok", (await connection.ReadResponseAsync()).Body);
        Assert.Equal("ready", (await connection.ReadResponseAsync()).Body);
        AssertProblem(await connection.ReadResponseAsync(), 400, "Invalid request line");
        Assert.True(await connection.IsClosedAsync());
    }

    private int Port(string service) => service switch
    {
        "control" => cluster.Control.Port,
        "emitter" => cluster.Emitter.Port,
        "dispatcher" => cluster.Dispatcher.Port,
        _ => cluster.Workers.First(w => !w.HasExited).Port,
    };

    private static void AssertProblem(RawResponse response, int status, string detail)
    {
        Assert.True(response.Status == status, $"expected {status}, got:\n{response.Head}\n\n{response.Body}");
        Assert.Equal("application/problem+json", response.Header("Content-Type")?.Split(';')[0]);
        var problem = JsonNode.Parse(response.Body)!;
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["type"]?.GetValue<string>()), response.Body);
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()), response.Body);
        Assert.Contains(detail, problem["detail"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    private sealed record RawResponse(int Status, string Head, string Body)
    {
        public string? Header(string name) => Head.Split("\r\n").Skip(1)
            .Select(line => line
                .Split(':', 2)).FirstOrDefault(p => p[0].Equals(name, StringComparison.OrdinalIgnoreCase))?[1].Trim();
    }

    /// <summary>
    /// An HTTP/1.1 connection read by hand: one response at a time (Content-Length or chunked), so keep-alive can be
    /// seen.
    /// </summary>
    private sealed class RawConnection : IAsyncDisposable
    {
        private readonly TcpClient client;
        private readonly NetworkStream stream;
        private readonly List<byte> pending = [];
        private readonly CancellationTokenSource timeout = new(TimeSpan.FromSeconds(20));

        private RawConnection(TcpClient client)
        {
            this.client = client;
            stream = client.GetStream();
        }

        public static async Task<RawConnection> OpenAsync(int port)
        {
            var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port);
            return new RawConnection(client);
        }

        public Task SendAsync(string request)
            => stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token).AsTask();

        public async Task<RawResponse> ReadResponseAsync()
        {
            var head = Encoding.ASCII.GetString(await ReadUntilAsync("\r\n\r\n"u8.ToArray()));
            var response = new RawResponse(int.Parse(head.Split(' ')[1]), head, "");
            string body;
            if (response.Header("Transfer-Encoding") == "chunked")
            {
                var text = new StringBuilder();
                while (true)
                {
                    var size = Convert.ToInt32(
                        Encoding.ASCII.GetString(await ReadUntilAsync("\r\n"u8.ToArray())).Trim(),
                        16);
                    text.Append(Encoding.UTF8.GetString(await ReadExactlyAsync(size + 2), 0, size));
                    if (size == 0) break;
                }
                body = text.ToString();
            }
            else
            {
                body = Encoding.UTF8
                    .GetString(await ReadExactlyAsync(int.Parse(response.Header("Content-Length") ?? "0")));
            }
            return response with { Body = body };
        }

        /// <summary>True when the server has closed its side (nothing more to read).</summary>
        public async Task<bool> IsClosedAsync()
            => pending.Count == 0 && await stream.ReadAsync(new byte[1], timeout.Token) == 0;

        private async Task<byte[]> ReadUntilAsync(byte[] terminator)
        {
            while (true)
            {
                var at = pending.ToArray().AsSpan().IndexOf(terminator);
                if (at >= 0) return Take(at + terminator.Length)[..at];
                await FillAsync();
            }
        }

        private async Task<byte[]> ReadExactlyAsync(int count)
        {
            while (pending.Count < count) await FillAsync();
            return Take(count);
        }

        private byte[] Take(int count)
        {
            var taken = pending.GetRange(0, count).ToArray();
            pending.RemoveRange(0, count);
            return taken;
        }

        private async Task FillAsync()
        {
            var buffer = new byte[16_384];
            var n = await stream.ReadAsync(buffer, timeout.Token);
            if (n == 0) throw new Xunit.Sdk.XunitException(
                $"The server closed the connection mid-response; had: {Encoding.ASCII.GetString([.. pending])}");
            pending.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        public ValueTask DisposeAsync()
        {
            timeout.Dispose();
            client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
