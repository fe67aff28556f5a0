using Microsoft.CodeAnalysis;
using Workq.Compiler;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.UnitTests.Scripting;

/// <summary>
/// Issue 24's three classes of hole, tested by class over every member of every assembly handler code is compiled
/// against (not one API each), then a few of each through the whole compiler, for the error's API and position.
/// </summary>
public sealed class ApiGuardClassTests
{
    private static readonly Lazy<IReadOnlyList<ISymbol>> AllMembers = new(() =>
    {
        var compilation = Scripts.Compiler.CreateCompilation("");
        var types = new List<INamedTypeSymbol>();
        foreach (var reference in compilation.References)
        {
            if (compilation.GetAssemblyOrModuleSymbol(reference) is IAssemblySymbol assembly) Collect(
                assembly.GlobalNamespace,
                types);
        }

        return types.SelectMany(t => t.GetMembers())
            .Where(m => m is not INamedTypeSymbol && m.DeclaredAccessibility != Accessibility.Private)
            .ToList();
    });

    [Fact]
    public void Every_memory_unsafe_member_is_refused()
    {
        var unsafeMembers = AllMembers.Value.Where(m =>
            m.Name.Contains("Unsafe", StringComparison.Ordinal)
            || m.ContainingType.Name.Contains("Marshal", StringComparison.Ordinal) || m.ContainingType.Name == "Unsafe"
            || (m.ContainingNamespace.ToDisplayString()
                .StartsWith("System.Runtime.Intrinsics", StringComparison.Ordinal)
                || (m.ContainingNamespace.ToDisplayString() == "System.Numerics"
                    && m.ContainingType.Name.StartsWith("Vector", StringComparison.Ordinal)))
               && (m.Name.StartsWith("Load", StringComparison.Ordinal)
                   || m.Name.StartsWith("Store", StringComparison.Ordinal))
            || Signature(m).Any(t => t is IPointerTypeSymbol or IFunctionPointerTypeSymbol)).ToList();

        AssertAllRefused(unsafeMembers, expectedAtLeast: 1000);
    }

    [Fact]
    public void Every_member_that_takes_a_type_a_type_name_or_a_method_is_refused()
    {
        var typeTaking = AllMembers.Value.Where(m => m.Name is not ("Equals" or "op_Equality" or "op_Inequality")
            && Parameters(m).Any(p =>
                IsTypeOrReflection(
                p.Type) || p.Type is INamedTypeSymbol
                {
                    Name: "Delegate" or "MulticastDelegate", ContainingNamespace
                    .Name: "System"
                }
                || (p.Type.SpecialType == SpecialType.System_String
                && p.Name.Contains("typeName", StringComparison.OrdinalIgnoreCase)))).ToList();

        AssertAllRefused(typeTaking, expectedAtLeast: 500);
    }

    /// <summary>
    /// Whatever a script reaches from its globals through allowed members never hands out a plain object (one the host
    /// may hold), a delegate's target or method, or a type that is not listed.
    /// </summary>
    [Fact]
    public void No_allowed_member_reachable_from_the_globals_hands_out_an_untyped_object()
    {
        var compilation = Scripts.Compiler.CreateCompilation("");
        var globals = compilation.GetTypeByMetadataName("Workq.Shared.Scripting.HandlerGlobals")!;
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        var pending = new Queue<ITypeSymbol>([globals]);
        var handedOut = new List<string>();
        while (pending.TryDequeue(out var type))
        {
            foreach (var member in Members(type).Where(m => HandlerApi.MemberReason(m) is null))
            {
                foreach (var returned in Returned(member))
                {
                    if (returned.SpecialType == SpecialType.System_Object
                        && !(member.ContainingType.Name == "IEnumerator" && member.Name == "Current"))
                        handedOut.Add($"{member.ContainingType}.{member.Name}");
                    if (returned is INamedTypeSymbol { TypeKind: not TypeKind.Error } named
                        && seen.Add(named.OriginalDefinition))
                        pending.Enqueue(named.OriginalDefinition);
                }
            }
        }

        Assert.True(seen.Count > 100, $"only {seen.Count} types reached");
        Assert.Empty(handedOut);
        Assert.DoesNotContain(seen, t => t is INamedTypeSymbol named && HandlerApi.TypeReason(named) is not null);
    }

    [Theory]
    [InlineData(
        "var a = new int[1]; return System.Numerics.Vector.LoadUnsafe(ref a[0], 100);",
        "System.Numerics.Vector.LoadUnsafe",
        51)]
    [InlineData(
        "var a = new int[1]; System.Numerics.Vector.StoreUnsafe(System.Numerics.Vector<int>.Zero, ref a[0], 100); "
        + "return 1;",
        "System.Numerics.Vector.StoreUnsafe",
        44)]
    [InlineData(
        "var a = new float[1]; return System.Numerics.Vector2.LoadUnsafe(ref a[0], 10);",
        "System.Numerics.Vector2.LoadUnsafe",
        54)]
    [InlineData(
        "var a = new byte[1]; return System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref a[0], 64);",
        "System.Runtime.Intrinsics.Vector128.LoadUnsafe",
        65)]
    [InlineData(
        "var a = new byte[1]; return System.Runtime.Intrinsics.Vector512.Create(a);",
        "System.Runtime.Intrinsics.Vector512.Create",
        65)]
    [InlineData(
        "var a = new int[1]; return System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref a[0], 100).Length;",
        "System.Runtime.InteropServices.MemoryMarshal.CreateSpan",
        73)]
    [InlineData("var l = new List<int>(); return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(l).Length;",
        "System.Runtime.InteropServices.CollectionsMarshal.AsSpan", 83)]
    [InlineData(
        "var a = new int[1]; return System.Runtime.CompilerServices.Unsafe.Add(ref a[0], 5);",
        "System.Runtime.CompilerServices.Unsafe.Add",
        67)]
    [InlineData("return System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(\"<\");",
        "System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping", 52)]
    public void Memory_unsafe_apis_are_refused_at_their_position(string code, string api, int column)
        => AssertRefusedAt(code, api, column);

    [Theory]
    [InlineData(
        "return JsonSerializer.Deserialize(\"{}\", Meta.GetType());",
        "System.Text.Json.JsonSerializer.Deserialize",
        23,
        "takes a System.Type")]
    [InlineData(
        "return JsonSerializer.Deserialize(\"{}\", typeof(HttpClient));",
        "System.Text.Json.JsonSerializer.Deserialize",
        23,
        "takes a System.Type")]
    [InlineData(
        "return JsonSerializer.Serialize(Event, typeof(object));",
        "System.Text.Json.JsonSerializer.Serialize",
        23,
        "takes a System.Type")]
    [InlineData(
        "return Convert.ChangeType(\"1\", typeof(int));",
        "System.Convert.ChangeType",
        16,
        "takes a System.Type")]
    [InlineData("return Enum.Parse(typeof(DayOfWeek), \"Monday\");", "System.Enum.Parse", 13, "takes a System.Type")]
    [InlineData("return Enum.GetValues(typeof(DayOfWeek)).Length;", "System.Enum.GetValues", 13, "takes a System.Type")]
    [InlineData(
        "return Array.CreateInstance(typeof(HttpClient), 1);",
        "System.Array.CreateInstance",
        14,
        "takes a System.Type")]
    [InlineData(
        "return JsonSerializerOptions.Default.GetConverter(typeof(HttpClient));",
        "System.Text.Json.JsonSerializerOptions.GetConverter",
        38,
        "takes a System.Type")]
    [InlineData(
        "return System.Globalization.CultureInfo.InvariantCulture.GetFormat(typeof(string));",
        "System.Globalization.CultureInfo.GetFormat",
        58,
        "takes a System.Type")]
    [InlineData("return Activator.CreateInstance<HttpClient>();", "System.Activator.CreateInstance", 18, "reflection")]
    // The same through a type argument: what the serializer or a new() constraint creates must be allowed to be
    // created.
    [InlineData(
        "return JsonSerializer.Deserialize<HttpClient>(\"{}\");",
        "System.Text.Json.JsonSerializer.Deserialize",
        23,
        "System.Net.Http.HttpClient is not one")]
    [InlineData(
        "record Holder(HttpClient Client); return JsonSerializer.Deserialize<Holder>(\"{}\");",
        "System.Text.Json.JsonSerializer.Deserialize",
        57,
        "System.Net.Http.HttpClient is not one")]
    [InlineData(
        "class Holder { public List<System.IO.Stream>? Streams { get; set; } } "
        + "return JsonSerializer.Deserialize<Holder>(\"{}\");",
        "System.Text.Json.JsonSerializer.Deserialize",
        93,
        "System.IO.Stream is not one")]
    [InlineData(
        "class Holder { [System.Text.Json.Serialization.JsonInclude] private HttpClient? c; } "
        + "return Event!.Deserialize<Holder>();",
        "System.Text.Json.JsonSerializer.Deserialize",
        100,
        "System.Net.Http.HttpClient is not one")]
    [InlineData(
        "T Read<T>(string json) => JsonSerializer.Deserialize<T>(json)!; return Read<int>(\"1\");",
        "System.Text.Json.JsonSerializer.Deserialize",
        42,
        "T is not one")]
    [InlineData(
        "T Make<T>() where T : new() => new T(); return Make<HttpClient>();",
        "new System.Net.Http.HttpClient",
        48,
        "only the Http client")]
    [InlineData(
        "class Box<T> where T : new() { public T Value = new T(); } return new Box<HttpClient>().Value;",
        "new System.Net.Http.HttpClient",
        71,
        "only the Http client")]
    [InlineData(
        "return new Lazy<HttpClient>().Value;",
        "new System.Lazy<System.Net.Http.HttpClient>",
        8,
        "through reflection")]
    [InlineData(
        "[System.Text.Json.Serialization.JsonConverter(typeof(Up))] record R(int N); "
        + "class Up : System.Text.Json.Serialization.JsonConverter<R> { public override R Read(ref Utf8JsonReader r, "
        + "Type t, JsonSerializerOptions o) => new(1); public override void Write(Utf8JsonWriter w, R v, "
        + "JsonSerializerOptions o) { } }",
        "new System.Text.Json.Serialization.JsonConverterAttribute",
        33,
        "takes a System.Type")]
    // A Type is for its name.
    [InlineData("var type = Event!.GetType(); return type.Name;", "GetType()", 12, "only for its name")]
    [InlineData("Type type = typeof(HttpClient); return 1;", "typeof", 13, "only for its name")]
    [InlineData("return $\"{Meta.GetType()}\";", "GetType()", 11, "only for its name")]
    [InlineData(
        "return typeof(string).IsAssignableFrom(typeof(object));",
        "System.Type.IsAssignableFrom",
        23,
        "reflection")]
    public void Apis_that_create_bind_or_call_through_a_type_are_refused(
        string code,
        string api,
        int column,
        string reason) =>
        AssertRefusedAt(code, api, column, reason);

    [Theory]
    [InlineData("Func<string, object?, Task<Guid>> emit = Emit; return emit.Target;", "System.Delegate.Target", 60)]
    [InlineData("Action<string> log = Log; return log.Method.Name;", "System.Delegate.Method", 38)]
    [InlineData(
        "Action<string> log = Log; return log.GetInvocationList().Length;",
        "System.MulticastDelegate.GetInvocationList",
        38)]
    [InlineData("return Emit(\"w\", 1).AsyncState;", "System.Threading.Tasks.Task.AsyncState", 21)]
    [InlineData(
        "object task = Emit(\"w\", 1); return ((IAsyncResult)task).AsyncState;",
        "System.IAsyncResult.AsyncState",
        57)]
    [InlineData("return (await Http.GetAsync(\"http://example.invalid\", CancellationToken)).RequestMessage!.Options;",
        "System.Net.Http.HttpRequestMessage.Options", 91)]
    [InlineData(
        "return (await Http.GetAsync(\"http://example.invalid\", CancellationToken)).RequestMessage!.Properties;",
        "System.Net.Http.HttpRequestMessage.Properties",
        91)]
    [InlineData(
        "try { await Http.GetAsync(\"http://example.invalid\"); } catch (HttpRequestException e) { return e.Data; } "
        + "return null;",
        "System.Exception.Data",
        98)]
    [InlineData(
        "try { await Task.Delay(1, CancellationToken); } catch (TaskCanceledException e) { "
        + "return e.Task!.AsyncState; } return null;",
        "System.Threading.Tasks.Task.AsyncState",
        98)]
    [InlineData(
        "try { throw new ArgumentOutOfRangeException(); } catch (ArgumentOutOfRangeException e) { "
        + "return e.ActualValue; }",
        "System.ArgumentOutOfRangeException.ActualValue",
        99)]
    [InlineData("return CancellationToken.WaitHandle;", "System.Threading.CancellationToken.WaitHandle", 26)]
    [InlineData(
        "return ((System.Runtime.CompilerServices.ITuple)(Meta.Canvas, Http))[1];",
        "System.Runtime.CompilerServices.ITuple.this[]",
        8)]
    // The shared array pool through a copy of the handler an interpolated string rents from it.
    [InlineData(
        "string Twice(ref System.Runtime.CompilerServices.DefaultInterpolatedStringHandler h) { var copy = h; "
        + "string.Create(null, ref h); return string.Create(null, ref copy); } return Twice($\"{Meta.Canvas}\");",
        "System.Runtime.CompilerServices.DefaultInterpolatedStringHandler",
        99)]
    public void Object_graph_walks_from_the_globals_are_refused(string code, string api, int column)
        => AssertRefusedAt(code, api, column);

    [Theory]
    [InlineData("a script's enum", "enum Color { Red, Green } return Color.Green.ToString();", "Green")]
    [InlineData(
        "catching QueueFullException by type",
        "try { return 1; } catch (Workq.Shared.Messaging.QueueFullException e) { return e.Worker; }",
        1)]
    [InlineData(
        "comparing types",
        "return Event!.GetType() == typeof(JsonObject) && Meta.GetType() != typeof(string);",
        true)]
    [InlineData(
        "a type's name",
        "return typeof(List<int>).Name + \" \" + Meta.GetType().FullName;",
        "List`1 Workq.Shared.Scripting.HandlerMeta")]
    [InlineData(
        "deserializing the script's data types",
        "enum Size { S, L } record Line(string Sku, int Qty, decimal? Price, Size Size, DateTimeOffset At, string[] "
        + "Tags, Dictionary<string, JsonNode> Extra); return "
        + "JsonSerializer.Deserialize<List<Line>>(\"[{\\\"Sku\\\":\\\"a\\\",\\\"Qty\\\":2}]\")![0].Qty;",
        2)]
    [InlineData(
        "formatting an interpolated string with a culture",
        "return string.Create(System.Globalization.CultureInfo.InvariantCulture, $\"{1.5}\");",
        "1.5")]
    [InlineData(
        "a new() constraint met by a type of the script's own",
        "T Make<T>() where T : new() => new T(); class Bag { public int N = 3; } return Make<Bag>().N;",
        3)]
    public async Task Neighbours_of_the_refused_classes_still_work(string what, string code, object expected)
    {
        var result = Scripts.Compiler.Compile(code);
        Assert.True(result.Succeeded, $"{what}: {string.Join("\n", result.Errors)}");
        using var handler = result.Handler;

        Assert.Equal(expected, await handler.RunAsync(Scripts.Globals(new JsonObject())));
    }

    private static void AssertRefusedAt(string code, string api, int column, string? reason = null)
    {
        var errors = Scripts.Errors(code);

        Assert.Contains(errors, e => e.Line == 1 && e.Column == column
            && e.Message.StartsWith($"forbidden API: {api} (", StringComparison.Ordinal)
            && (reason is null || e.Message.Contains(reason, StringComparison.Ordinal)));
    }

    private static void AssertAllRefused(List<ISymbol> members, int expectedAtLeast)
    {
        Assert.True(
            members.Count >= expectedAtLeast,
            $"only {members.Count} members in the class: the test no longer finds them");
        var allowed = members.Where(m => HandlerApi.MemberReason(m) is null).Select(m => m.ToDisplayString()).ToList();
        Assert.True(allowed.Count == 0, $"allowed: {string.Join("\n", allowed)}");
    }

    private static void Collect(INamespaceSymbol ns, List<INamedTypeSymbol> types)
    {
        foreach (var type in ns.GetTypeMembers()) CollectNested(type, types);
        foreach (var inner in ns.GetNamespaceMembers()) Collect(inner, types);
    }

    private static void CollectNested(INamedTypeSymbol type, List<INamedTypeSymbol> types)
    {
        if (type.DeclaredAccessibility
            is not (Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal)) return;
        types.Add(type);
        foreach (var nested in type.GetTypeMembers()) CollectNested(nested, types);
    }

    /// <summary>The public members a value of this type offers, its accessors as their properties.</summary>
    private static IEnumerable<ISymbol> Members(ITypeSymbol type)
    {
        var types = new List<ITypeSymbol>();
        for (var current = type; current is not null; current = current.BaseType) types.Add(current);
        return types.Concat(type.AllInterfaces)
            .SelectMany(t => t.GetMembers())
            .Where(m => m is not (INamedTypeSymbol or IMethodSymbol { AssociatedSymbol: not null })
                && m.DeclaredAccessibility == Accessibility.Public);
    }

    /// <summary>
    /// Every type a member hands out, with the types inside it (an array's element, a Task's result, a list's items).
    /// </summary>
    private static IEnumerable<ITypeSymbol> Returned(ISymbol member)
    {
        var type = member switch
        {
            IMethodSymbol { MethodKind: MethodKind.Constructor } => null,
            IMethodSymbol method => method.ReturnType,
            IPropertySymbol property => property.Type,
            IFieldSymbol field => field.Type,
            _ => null,
        };
        return type is null ? [] : Within(type);
    }

    private static IEnumerable<ITypeSymbol> Within(ITypeSymbol type) => type switch
    {
        IArrayTypeSymbol array => [type, .. Within(array.ElementType)],
        INamedTypeSymbol named => [type, .. named.TypeArguments.SelectMany(Within)],
        _ => [type],
    };

    private static IEnumerable<ITypeSymbol> Signature(ISymbol member) => member switch
    {
        IMethodSymbol method => [method.ReturnType, .. method.Parameters.Select(p => p.Type)],
        IPropertySymbol property => [property.Type, .. property.Parameters.Select(p => p.Type)],
        IFieldSymbol field => [field.Type],
        _ => [],
    };

    private static IEnumerable<IParameterSymbol> Parameters(ISymbol member) => member switch
    {
        IMethodSymbol method => method.Parameters,
        IPropertySymbol property => property.Parameters,
        _ => [],
    };

    private static bool IsTypeOrReflection(ITypeSymbol type) => type switch
    {
        IArrayTypeSymbol array => IsTypeOrReflection(array.ElementType),
        INamedTypeSymbol named => (named.Name == "Type" && named.ContainingNamespace.ToDisplayString() == "System")
            || named.ContainingNamespace.ToDisplayString().StartsWith("System.Reflection", StringComparison.Ordinal)
            || named.TypeArguments.Any(IsTypeOrReflection),
        _ => false,
    };
}
