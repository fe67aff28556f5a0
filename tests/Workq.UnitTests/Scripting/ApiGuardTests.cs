using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Scripting;

namespace Workq.UnitTests.Scripting;

public sealed class ApiGuardTests
{
    [Theory]
    [InlineData("return System.IO.File.ReadAllText(\"/etc/passwd\");", "System.IO.File.ReadAllText", "file system")]
    [InlineData("return System.IO.Directory.GetFiles(\"/\").Length;", "System.IO.Directory.GetFiles", "file system")]
    [InlineData("return new System.IO.FileInfo(\"/etc/passwd\").Length;", "System.IO.FileInfo", "file system")]
    [InlineData(
        "var s = new System.IO.FileStream(\"/tmp/x\", System.IO.FileMode.Create); s.Dispose();",
        "System.IO.FileStream",
        "file system")]
    [InlineData(
        "return new System.IO.StreamReader(\"/etc/passwd\").ReadToEnd();",
        "new System.IO.StreamReader",
        "file system")]
    [InlineData(
        "return System.Environment.GetEnvironmentVariable(\"SECRET\");",
        "System.Environment.GetEnvironmentVariable",
        "environment")]
    [InlineData("System.Environment.Exit(1);", "System.Environment.Exit", "environment")]
    [InlineData("return AppContext.BaseDirectory;", "System.AppContext.BaseDirectory", "environment")]
    [InlineData("return typeof(object).Assembly.FullName;", "System.Type.Assembly", "reflection")]
    [InlineData("return \"x\".GetType().GetMethod(\"Clone\");", "System.Type.GetMethod", "reflection")]
    [InlineData("return Type.GetType(\"System.IO.File\");", "System.Type.GetType", "reflection")]
    [InlineData(
        "return Activator.CreateInstance(typeof(string).GetType());",
        "System.Activator.CreateInstance",
        "reflection")]
    [InlineData(
        "var m = System.Reflection.BindingFlags.NonPublic; return m;",
        "System.Reflection.BindingFlags",
        "reflection")]
    [InlineData("Action a = () => {}; return a.Method.Name;", "System.Delegate.Method", "reflection")]
    [InlineData("Func<int> f = () => 1; return f.DynamicInvoke();", "System.Delegate.DynamicInvoke", "reflection")]
    [InlineData(
        "try { throw new Exception(); } catch (Exception e) { return e.TargetSite; }",
        "System.Exception.TargetSite",
        "reflection")]
    [InlineData(
        "return System.Runtime.InteropServices.Marshal.AllocHGlobal(10);",
        "System.Runtime.InteropServices.Marshal",
        "interop")]
    [InlineData(
        "return System.Runtime.CompilerServices.Unsafe.SizeOf<int>();",
        "System.Runtime.CompilerServices.Unsafe",
        "unsafe")]
    [InlineData(
        "return System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(string));",
        "RuntimeHelpers",
        "compiler services")]
    [InlineData(
        "var c = new System.Runtime.Loader.AssemblyLoadContext(\"x\"); return c;",
        "System.Runtime.Loader.AssemblyLoadContext",
        "assembly loading")]
    [InlineData("return AppDomain.CurrentDomain.FriendlyName;", "System.AppDomain", "assembly loading")]
    [InlineData("GC.Collect();", "System.GC.Collect", "runtime")]
    [InlineData("new Thread(() => {}).Start();", "System.Threading.Thread", "threads")]
    [InlineData("Thread.Sleep(10);", "System.Threading.Thread.Sleep", "threads")]
    [InlineData("var m = new Mutex(false, \"x\"); m.Dispose();", "System.Threading.Mutex", "threads")]
    [InlineData("return Logs.Count;", "Workq.Shared.Scripting.HandlerGlobals.Logs", "host internals")]
    [InlineData(
        "return new Workq.Shared.Handlers.Scripting.EmittedEvent(\"w\", Guid.Empty);",
        "Workq.Shared.Handlers.Scripting.EmittedEvent",
        "host internals")]
    [InlineData("return Emitted.Count;", "Workq.Shared.Scripting.HandlerGlobals.Emitted", "host internals")]
    [InlineData(
        "return new Workq.Shared.Scripting.HandlerMeta(Guid.Empty, \"c\", \"w\", default, 1, 0);",
        "new Workq.Shared.Scripting.HandlerMeta",
        "host internals")]
    [InlineData("return System.Diagnostics.Debugger.IsAttached;", "System.Diagnostics.Debugger", "processes")]
    [InlineData("dynamic d = Event; return d;", "dynamic", "dynamic")]
    [InlineData(
        "[System.Runtime.InteropServices.DllImport(\"libc\")] static extern int getpid(); return getpid();",
        "DllImport",
        "interop")]
    [InlineData(
        "class P { [System.Runtime.InteropServices.DllImport(\"libc\")] public static extern int getpid(); }",
        "DllImport",
        "interop")]
    public void Forbidden_api_is_refused_and_named(string code, string api, string reason)
    {
        var errors = Scripts.Errors(code);

        Assert.Contains(errors, e => e.Line == 1 && e.Message.Contains(api, StringComparison.Ordinal)
            && e.Message.Contains(reason, StringComparison.Ordinal));
    }

    /// <summary>
    /// Issue 12's doors: other ways out than the policed Http, shared process state, work that outlives the event.
    /// </summary>
    [Theory]
    [InlineData(
        "var c = new HttpClient(); return c.Timeout;",
        "new System.Net.Http.HttpClient",
        "only the Http client")]
    [InlineData(
        "var h = new SocketsHttpHandler(); return 1;",
        "System.Net.Http.SocketsHttpHandler",
        "only the Http client")]
    [InlineData(
        "var h = new HttpClientHandler(); return 1;",
        "System.Net.Http.HttpClientHandler",
        "only the Http client")]
    [InlineData(
        "var i = new HttpMessageInvoker(null!); return 1;",
        "new System.Net.Http.HttpMessageInvoker",
        "only the Http client")]
    [InlineData("class H : DelegatingHandler { }", "System.Net.Http.DelegatingHandler", "only the Http client")]
    [InlineData("HttpClient.DefaultProxy = null!;", "System.Net.Http.HttpClient.DefaultProxy", "process-wide")]
    [InlineData(
        "return HttpClient.DefaultProxy.GetProxy(new Uri(\"http://x\"));",
        "System.Net.Http.HttpClient.DefaultProxy",
        "process-wide")]
    [InlineData(
        "return System.Buffers.ArrayPool<byte>.Shared.Rent(16);",
        "System.Buffers.ArrayPool<System.Byte>.Shared",
        "shared process state")]
    [InlineData(
        "return System.Buffers.MemoryPool<byte>.Shared.Rent(16);",
        "System.Buffers.MemoryPool<System.Byte>.Shared",
        "shared process state")]
    [InlineData(
        "return System.Buffers.ArrayPool<char>.Shared;",
        "System.Buffers.ArrayPool<System.Char>.Shared",
        "shared process state")]
    [InlineData(
        "return JsonSerializerOptions.Default.GetTypeInfo(typeof(string)).Properties.Count;",
        "System.Text.Json.JsonSerializerOptions.GetTypeInfo",
        "serializer metadata")]
    [InlineData(
        "return JsonSerializerOptions.Default.TypeInfoResolver;",
        "System.Text.Json.JsonSerializerOptions.TypeInfoResolver",
        "serializer metadata")]
    [InlineData(
        "var r = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(); return 1;",
        "System.Text.Json.Serialization.Metadata",
        "not allowed")]
    [InlineData(
        "Func<string, object?, Task<Guid>> emit = Emit; return emit.Target;",
        "System.Delegate.Target",
        "reflection")]
    [InlineData(
        "async void Later() { await Task.Delay(10); throw new Exception(); } Later();",
        "async void",
        "async void")]
    [InlineData(
        "Action a = async () => { await Task.Delay(10); throw new Exception(); }; a();",
        "async void",
        "async void")]
    [InlineData(
        "class Late { ~Late() { throw new Exception(); } } new Late(); return 1;",
        "finalizer",
        "finalizer thread")]
    [InlineData("_ = Task.Run(() => 1); return 1;", "System.Threading.Tasks.Task.Run", "outlives the event")]
    [InlineData(
        "_ = Task.Factory.StartNew(() => 1); return 1;",
        "System.Threading.Tasks.Task.Factory",
        "outlives the event")]
    [InlineData("new Task(() => { }).Start();", "new System.Threading.Tasks.Task", "outlives the event")]
    [InlineData(
        "_ = Task.Delay(5000).ContinueWith(_ => 1); return 1;",
        "System.Threading.Tasks.Task.ContinueWith",
        "outlives the event")]
    [InlineData(
        "var t = new Timer(_ => { }, null, 1000, 1000); return 1;",
        "System.Threading.Timer",
        "outlives the event")]
    [InlineData(
        "var t = new PeriodicTimer(TimeSpan.FromSeconds(1)); return 1;",
        "System.Threading.PeriodicTimer",
        "outlives the event")]
    [InlineData(
        "var t = TimeProvider.System.CreateTimer(_ => { }, null, TimeSpan.Zero, TimeSpan.Zero); return 1;",
        "System.TimeProvider.CreateTimer",
        "outlives the event")]
    [InlineData(
        "new CancellationTokenSource(5000).Token.Register(() => { });",
        "System.Threading.CancellationToken.Register",
        "outlives the event")]
    [InlineData(
        "TaskScheduler.UnobservedTaskException += (s, e) => { };",
        "System.Threading.Tasks.TaskScheduler",
        "outlives the event")]
    [InlineData(
        "SynchronizationContext.SetSynchronizationContext(null);",
        "System.Threading.SynchronizationContext",
        "process-wide")]
    [InlineData(
        "int Deep() { Span<byte> b = stackalloc byte[1024]; return b.Length; } return Deep();",
        "stackalloc",
        "stackalloc")]
    [InlineData(
        "System.Globalization.CultureInfo.DefaultThreadCurrentCulture = new "
        + "System.Globalization.CultureInfo(\"fr-FR\");",
        "System.Globalization.CultureInfo.DefaultThreadCurrentCulture",
        "process-wide")]
    [InlineData(
        "System.Text.RegularExpressions.Regex.CacheSize = 0;",
        "System.Text.RegularExpressions.Regex.CacheSize",
        "process-wide")]
    [InlineData("TimeZoneInfo.ClearCachedData();", "System.TimeZoneInfo.ClearCachedData", "process-wide")]
    [InlineData("return string.IsInterned(\"wq_secret\");", "System.String.IsInterned", "shared process state")]
    [InlineData(
        "class Leak : System.IO.Stream { public override bool CanRead => true; "
        + "public override bool CanSeek => false; public override bool CanWrite => false; "
        + "public override long Length => 0; public override long Position { get; set; } "
        + "public override void Flush() { } public override int Read(byte[] b, int o, int c) => 0; "
        + "public override long Seek(long o, System.IO.SeekOrigin s) => 0; public override void SetLength(long v) { } "
        + "public override void Write(byte[] b, int o, int c) { } }",
        "System.IO.Stream",
        "deriving from this type")]
    [InlineData(
        "class Leak : System.IO.TextWriter { public override Encoding Encoding => Encoding.UTF8; }",
        "System.IO.TextWriter",
        "deriving from this type")]
    [InlineData(
        "struct Peek : ISpanFormattable { public string ToString(string? f, IFormatProvider? p) => \"\"; "
        + "public bool TryFormat(Span<char> d, out int n, ReadOnlySpan<char> f, IFormatProvider? p) { n = 0; "
        + "return true; } }",
        "System.ISpanFormattable",
        "implementing this interface")]
    public void Escape_hatches_and_shared_state_are_refused(string code, string api, string reason)
        => Forbidden_api_is_refused_and_named(code, api, reason);

    /// <summary>
    /// Sockets, DNS, proxies and parallel loops live in assemblies a script is not compiled against: they do not exist
    /// for it.
    /// </summary>
    [Theory]
    [InlineData(
        "var s = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, "
        + "System.Net.Sockets.ProtocolType.Tcp);")]
    [InlineData("var c = new System.Net.Sockets.TcpClient(\"127.0.0.1\", 5672);")]
    [InlineData("System.Net.ServicePointManager.DefaultConnectionLimit = 1;")]
    [InlineData("return new System.Net.WebProxy(\"http://evil\");")]
    [InlineData("return (await System.Net.Dns.GetHostAddressesAsync(\"localhost\")).Length;")]
    [InlineData("return new[] { 1, 2 }.AsParallel().Sum();")]
    [InlineData("Parallel.For(0, 10, i => { });")]
    public void Unreferenced_escape_hatches_do_not_exist_for_scripts(string code)
    {
        var errors = Scripts.Errors(code);

        Assert.Contains(errors, e => e.Message.StartsWith("CS0234", StringComparison.Ordinal)
            || e.Message.StartsWith("CS0103", StringComparison.Ordinal)
            || e.Message.StartsWith("CS1061", StringComparison.Ordinal)
            || e.Message
                .StartsWith("CS0246", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(
        "private pool",
        "var pool = System.Buffers.ArrayPool<byte>.Create(); var b = pool.Rent(8); pool.Return(b); "
        + "return b.Length >= 8;",
        true)]
    [InlineData(
        "own exception type",
        "class Oops(string m) : InvalidOperationException(m); try { throw new Oops(\"x\"); } catch (Oops e) { "
        + "return e.Message; }",
        "x")]
    [InlineData(
        "own converter",
        "class Up : System.Text.Json.Serialization.JsonConverter<string> { "
        + "public override string Read(ref Utf8JsonReader r, Type t, JsonSerializerOptions o) => "
        + "r.GetString()!.ToUpperInvariant(); public override void Write(Utf8JsonWriter w, string v, "
        + "JsonSerializerOptions o) => w.WriteStringValue(v); } var o = new JsonSerializerOptions(); "
        + "o.Converters.Add(new Up()); return JsonSerializer.Deserialize<string>(\"\\\"a\\\"\", o);",
        "A")]
    [InlineData(
        "a linked time-out",
        "using (var cts = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken)) { "
        + "cts.CancelAfter(TimeSpan.FromSeconds(5)); await Task.Delay(1, cts.Token); } return 1;",
        1)]
    [InlineData(
        "async lambdas that return a Task",
        "var n = 0; Func<Task> f = async () => { await Task.Yield(); n++; }; await f(); return n;",
        1)]
    [InlineData(
        "static state of its own",
        "class Count { public static int N; } Count.N++; Count.N += 2; return Count.N;",
        3)]
    [InlineData(
        "reading the culture",
        "return System.Globalization.CultureInfo.CurrentCulture.Name.Length >= 0;",
        true)]
    [InlineData(
        "a socket error code",
        "return System.Net.Sockets.SocketError.ConnectionRefused.ToString();",
        "ConnectionRefused")]
    public async Task Safe_neighbours_of_the_refused_apis_still_work(string what, string code, object expected)
    {
        var result = Scripts.Compiler.Compile(code);
        Assert.True(result.Succeeded, $"{what}: {string.Join("\n", result.Errors)}");
        using var handler = result.Handler;

        Assert.Equal(expected, await handler.RunAsync(Scripts.Globals(new JsonObject())));
    }

    [Fact]
    public void Forbidden_api_error_points_at_the_member_on_the_users_line()
    {
        var errors = Scripts.Errors("""
            var path = "/etc/passwd";
            var text = System.IO.File.ReadAllText(path);
            return text;
            """);

        var error = Assert.Single(errors);
        Assert.Equal(
            new ScriptError(2, 27, "forbidden API: System.IO.File.ReadAllText (file system access is not allowed)"),
            error);
    }

    [Fact]
    public void Every_violation_is_reported()
    {
        var errors = Scripts.Errors("""
            var a = System.IO.File.Exists("/x");
            var b = Environment.MachineName;
            Log(a + b);
            var c = typeof(string).Assembly;
            """);

        Assert.True(errors.Select(e => e.Line).SequenceEqual([1, 2, 4]), string.Join("\n", errors));
        Assert.Contains("System.IO.File.Exists", errors[0].Message);
        Assert.Contains("System.Environment.MachineName", errors[1].Message);
        Assert.Contains("System.Type.Assembly", errors[2].Message);
    }

    [Theory]
    [InlineData("using System.IO; return File.ReadAllText(\"/etc/passwd\");", "System.IO.File.ReadAllText")]
    [InlineData("using static System.IO.File; return ReadAllText(\"/etc/passwd\");", "System.IO.File.ReadAllText")]
    [InlineData("using F = System.IO.File; return F.ReadAllText(\"/etc/passwd\");", "System.IO.File.ReadAllText")]
    [InlineData("var t = typeof(System.IO.File); return t.Name;", "System.IO.File")]
    [InlineData("var files = new List<System.IO.FileInfo>(); return files.Count;", "System.IO.FileInfo")]
    [InlineData("var asm = \"x\".GetType().Assembly; return 1;", "System.Type.Assembly")]
    [InlineData("object o = Meta; return ((System.Reflection.MemberInfo)o.GetType()).Module;", "System.Reflection")]
    [InlineData("var f = () => Environment.ProcessId; return f();", "System.Environment.ProcessId")]
    public void Forbidden_api_is_refused_however_it_is_spelled(string code, string api)
    {
        var errors = Scripts.Errors(code);

        Assert.Contains(errors, e => e.Message.Contains(api, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("unsafe { int x = 1; int* p = &x; return *p; }")]
    [InlineData("int* p = null; return 1;")]
    public void Unsafe_code_is_refused(string code)
    {
        var errors = Scripts.Errors(code);

        Assert.Contains(errors, e => e.Message.Contains("unsafe", StringComparison.OrdinalIgnoreCase)
            || e.Message.Contains("pointers", StringComparison.Ordinal));
    }

    [Fact]
    public void Dynamic_operations_do_not_compile()
    {
        var errors = Scripts.Errors("dynamic d = 1; return d + 1;");

        Assert.Contains(errors, e => e.Message.Contains("dynamic", StringComparison.OrdinalIgnoreCase)
            || e.Message.Contains("Microsoft.CSharp", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("System.Diagnostics.Process.Start(\"sh\");", "Process")]
    [InlineData("Console.WriteLine(\"hi\");", "Console")]
    [InlineData("return System.Linq.Expressions.Expression.Constant(1);", "Expressions")]
    public void Assemblies_outside_the_sandbox_are_not_even_referenced(string code, string name)
    {
        var errors = Scripts.Errors(code);

        Assert.Contains(errors, e => e.Line == 1 && e.Message.Contains(name, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("LINQ", "return new[] { 3, 1, 2 }.Where(x => x > 1).OrderBy(x => x).Select(x => x * 10).Sum();", 50)]
    [InlineData("query syntax", "var q = from x in new[] { 1, 2, 3 } where x > 1 select x * 2; return q.Sum();", 10)]
    [InlineData("Regex", "return System.Text.RegularExpressions.Regex.Matches(\"a1b22c333\", \"[0-9]+\").Count;", 3)]
    [InlineData(
        "StringBuilder",
        "var sb = new StringBuilder(); foreach (var i in Enumerable.Range(0, 3)) sb.Append(i); var n = sb.Length; "
        + "sb.Append($\"-{n}\"); return sb.ToString();",
        "012-3")]
    [InlineData(
        "Dictionary",
        "var d = new Dictionary<string, int> { [\"a\"] = 1 }; d[\"b\"] = 2; return d.Values.Sum();",
        3)]
    [InlineData(
        "JsonNode",
        "var o = new JsonObject { [\"x\"] = 1 }; o[\"y\"] = new JsonArray(1, 2); "
        + "o[\"x\"] = o[\"x\"]!.GetValue<int>() + 1; return o.ToJsonString();",
        "{\"x\":2,\"y\":[1,2]}")]
    [InlineData(
        "JsonSerializer",
        "record Item(string Name, int Qty); var item = "
        + "JsonSerializer.Deserialize<Item>(\"{\\\"Name\\\":\\\"a\\\",\\\"Qty\\\":2}\")!; return item.Qty;",
        2)]
    [InlineData(
        "Task.Delay with CancellationToken",
        "await Task.Delay(1, CancellationToken); await Task.Yield(); return 1;",
        1)]
    [InlineData("ConfigureAwait", "await Task.Delay(1).ConfigureAwait(false); return 1;", 1)]
    [InlineData(
        "HttpClient via Http",
        "Func<Task<string>> get = () => Http.GetStringAsync(\"http://localhost:1/\", CancellationToken); "
        + "return Http.Timeout > TimeSpan.Zero;",
        true)]
    [InlineData(
        "HttpRequestMessage",
        "using (var req = new HttpRequestMessage(HttpMethod.Post, \"http://example.invalid\") { "
        + "Content = new StringContent(\"x\") }) { return req.Method.Method + req.RequestUri!.Host; }",
        "POSTexample.invalid")]
    [InlineData(
        "MemoryStream and StreamReader",
        "using (var r = new System.IO.StreamReader(new System.IO.MemoryStream(Encoding.UTF8.GetBytes(\"hi\")))) { "
        + "return await r.ReadToEndAsync(); }",
        "hi")]
    [InlineData(
        "SemaphoreSlim and Interlocked",
        "var gate = new SemaphoreSlim(2); var n = 0; await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ => { "
        + "await gate.WaitAsync(CancellationToken); try { Interlocked.Increment(ref n); } finally { gate.Release(); } "
        + "})); return n;",
        5)]
    [InlineData("lock", "var gate = new object(); var n = 0; lock (gate) { n++; } return n;", 1)]
    [InlineData(
        "Stopwatch",
        "var sw = System.Diagnostics.Stopwatch.StartNew(); return sw.Elapsed >= TimeSpan.Zero;",
        true)]
    [InlineData("Type name only", "return Event!.GetType().Name;", "JsonObject")]
    [InlineData(
        "Guid, DateTime, Math, Convert",
        "return $\"{Guid.Empty:N}\".Length + (int)Math.Sqrt(16) + Convert.ToInt32(\"1\") + "
        + "DateTimeOffset.UnixEpoch.Year;",
        32 + 4 + 1 + 1970)]
    [InlineData(
        "local function, tuple and pattern",
        "(int A, string B) Pair(int x) => (x, x.ToString()); var p = Pair(7); return p is { A: > 5 } ? p.B : \"no\";",
        "7")]
    [InlineData(
        "class and record in the script",
        "class Counter { public int N { get; private set; } public void Add() => N++; } var c = new Counter(); "
        + "c.Add(); return c.N;",
        1)]
    [InlineData(
        "foreach over a ConcurrentDictionary",
        "var d = new System.Collections.Concurrent.ConcurrentDictionary<int, int>(); d[1] = 2; var s = 0; "
        + "foreach (var kv in d) s += kv.Value; return s;",
        2)]
    [InlineData("BigInteger", "return (System.Numerics.BigInteger.Pow(2, 70) % 1000).ToString();", "424")]
    [InlineData(
        "Meta record members",
        "var (id, canvas, worker, at, attempt, depth) = Meta; return canvas + depth + (Meta == Meta);",
        "shop0True")]
    [InlineData("Emit a JsonNode", "return await Emit(\"w\", Event) != Guid.Empty;", true)]
    public async Task Allowed_code_compiles_and_runs(string what, string code, object expected)
    {
        var result = Scripts.Compiler.Compile(code);
        Assert.True(result.Succeeded, $"{what}: {string.Join("\n", result.Errors)}");
        using var handler = result.Handler;

        var value = await handler.RunAsync(Scripts.Globals(new JsonObject { ["n"] = 1 }));

        Assert.Equal(expected, value);
    }
}
