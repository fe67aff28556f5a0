using System.Collections.Frozen;
using Microsoft.CodeAnalysis;

namespace Workq.Compiler;

/// <summary>
/// The verdict on each framework type and member handler code may name: one function for the guard that walks a
/// script and for the table (docs/handler-api-surface.md) that lists the whole surface, so the table is what the
/// guard enforces. Only listed types are allowed (<see cref="Listed"/>); within them, some members are refused by
/// construction, whatever type they are on, because of what they take or hand out.
/// </summary>
internal static partial class HandlerApi
{
    public const string FileSystem = "file system access is not allowed";
    public const string Processes = "processes and diagnostics are not allowed";
    public const string Reflection = "reflection is not allowed";
    public const string Interop = "interop and unsafe code are not allowed";
    public const string Loading = "assembly loading is not allowed";
    public const string EnvironmentAccess = "environment access is not allowed";
    public const string Runtime = "controlling the runtime is not allowed";
    public const string Threads = "threads and OS synchronization are not allowed";
    public const string ConsoleAccess = "console access is not allowed (use Log)";
    public const string Host = "host internals are not accessible";
    public const string Egress = "only the Http client given to the handler may make requests";
    public const string Shared = "shared process state is not allowed: other canvases use it too";
    public const string Background = "work that outlives the event is not allowed";
    public const string ProcessSettings = "changing process-wide settings is not allowed";
    public const string Metadata = "serializer metadata can reach host objects and is not allowed";
    public const string MemoryUnsafe = "memory-unsafe: it can read or write outside the bounds of an object";
    public const string NamedUnsafe = "named Unsafe: it skips a safety check, so it is refused by construction";
    public const string TakesType = "it takes a System.Type and creates, binds or calls through it";
    public const string TakesTypeName = "it takes a type's name and resolves it";
    public const string CreatesByReflection = "it creates instances of its type argument through reflection";
    public const string TakesMethod = "it takes a delegate or a method and binds or calls through it";
    public const string ObjectGraph = "it hands out an object the framework holds, which may be the host's";
    public const string ExpressionTrees = "expression trees are not allowed";
    public const string CompilerHeld = "only the compiler may hold one: it rents from the shared array pool, and a " +
        "copy could return its array twice";
    public const string Unlisted = "not on the list of APIs handler code may use (docs/handler-api-surface.md)";
    public const string SerializerCreates = "its type argument is created by the serializer: it must be a data type";

    private const string Simd
        = "SIMD vectors are not allowed: their load and store forms read and write outside an array's bounds";

    /// <summary>Reasons for types that are not listed, by metadata name: only the message depends on these.</summary>
    private static readonly FrozenDictionary<string, string> UnlistedReasons = new Dictionary<string, string>
    {
        ["System.Environment"] = EnvironmentAccess,
        ["System.AppContext"] = EnvironmentAccess,
        ["System.AppDomain"] = Loading,
        ["System.AppDomainSetup"] = Loading,
        ["System.Activator"] = Reflection,
        ["System.GC"] = Runtime,
        ["System.Console"] = ConsoleAccess,
        ["System.RuntimeTypeHandle"] = Reflection,
        ["System.RuntimeMethodHandle"] = Reflection,
        ["System.RuntimeFieldHandle"] = Reflection,
        ["System.ModuleHandle"] = Reflection,
        ["System.TypedReference"] = Reflection,
        ["System.ArgIterator"] = Interop,
        ["System.RuntimeArgumentHandle"] = Interop,
        ["System.Buffer"] = MemoryUnsafe,
        ["System.Runtime.CompilerServices.Unsafe"] = Interop,
        ["System.Lazy`1"] = CreatesByReflection,
        ["System.Lazy`2"] = CreatesByReflection,
        ["System.Threading.LazyInitializer"] = CreatesByReflection,
        ["System.Threading.Thread"] = Threads,
        ["System.Threading.ThreadPool"] = Threads,
        ["System.Threading.ThreadPoolBoundHandle"] = Threads,
        ["System.Threading.RegisteredWaitHandle"] = Threads,
        ["System.Threading.Overlapped"] = Interop,
        ["System.Threading.PreAllocatedOverlapped"] = Interop,
        ["System.Threading.ExecutionContext"] = Threads,
        ["System.Threading.CompressedStack"] = Threads,
        // Named handles are shared across processes.
        ["System.Threading.WaitHandle"] = Threads,
        ["System.Threading.EventWaitHandle"] = Threads,
        ["System.Threading.Mutex"] = Threads,
        ["System.Threading.Semaphore"] = Threads,
        ["System.Net.WebRequest"] = FileSystem,
        ["System.Net.FileWebRequest"] = FileSystem,
        ["System.Net.WebClient"] = FileSystem,
        ["System.Net.HttpWebRequest"] = Egress,
        ["System.Net.FtpWebRequest"] = Egress,
        ["System.Net.ServicePointManager"] = ProcessSettings,
        ["System.Net.ServicePoint"] = ProcessSettings,
        ["System.Net.WebProxy"] = Egress,
        ["System.Net.GlobalProxySelection"] = ProcessSettings,
        ["System.Net.CredentialCache"] = EnvironmentAccess,
        ["System.Net.Dns"] = Egress,
        ["System.Net.Http.HttpMessageHandler"] = Egress,
        ["System.Net.Http.DelegatingHandler"] = Egress,
        ["System.Net.Http.HttpClientHandler"] = Egress,
        ["System.Net.Http.SocketsHttpHandler"] = Egress,
        ["System.Net.Http.SocketsHttpConnectionContext"] = Egress,
        ["System.Net.Http.SocketsHttpPlaintextStreamFilterContext"] = Egress,
        // The request's options are the handlers' own store.
        ["System.Net.Http.HttpRequestOptions"] = ObjectGraph,
        ["System.Buffers.MemoryPool`1"] = Shared,
        ["System.Threading.Timer"] = Background,
        ["System.Threading.PeriodicTimer"] = Background,
        ["System.Threading.ITimer"] = Background,
        ["System.Threading.SynchronizationContext"] = ProcessSettings,
        ["System.Threading.Tasks.TaskScheduler"] = Background,
        ["System.Threading.Tasks.TaskFactory"] = Background,
        ["System.Threading.Tasks.TaskFactory`1"] = Background,
        ["System.Threading.Tasks.Parallel"] = Background,
        ["System.Threading.Tasks.ParallelLoopState"] = Background,
        ["System.Threading.Tasks.ParallelOptions"] = Background,
        ["System.Linq.ParallelEnumerable"] = Background,
        ["System.Linq.ParallelQuery"] = Background,
        ["System.Linq.ParallelQuery`1"] = Background,
        ["System.Linq.Queryable"] = ExpressionTrees,
        ["System.Linq.IQueryable"] = ExpressionTrees,
        ["System.Linq.IQueryable`1"] = ExpressionTrees,
        ["System.Linq.IOrderedQueryable"] = ExpressionTrees,
        ["System.Linq.IOrderedQueryable`1"] = ExpressionTrees,
        ["System.Linq.IQueryProvider"] = ExpressionTrees,
        ["System.IAsyncResult"] = ObjectGraph,
    }.ToFrozenDictionary();

    /// <summary>String parameters the framework documents as a type's or an assembly's name that it resolves.</summary>
    private static readonly FrozenSet<string> TypeNameParameters = FrozenSet.ToFrozenSet(
        ["typeName", "assemblyName", "assemblyString", "assemblyFile", "assemblyQualifiedName", "className"],
            StringComparer.OrdinalIgnoreCase);

    private static readonly SymbolDisplayFormat ApiFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.ExpandNullable
            | SymbolDisplayMiscellaneousOptions.ExpandValueTuple);

    /// <summary>
    /// A listed type: all its members, or only <see cref="Only"/>; <see cref="Refusals"/> name members refused besides.
    /// </summary>
    private sealed record ApiType(
        string Name,
        FrozenSet<string>? Only,
        string OnlyReason,
        IReadOnlyList<Refusal> Refusals);

    private sealed record Refusal(string Member, string Reason, Func<ISymbol, bool>? When);

    /// <summary>
    /// Why a framework type may not be named, or null when it is listed (or nested in a type listed with all its
    /// members).
    /// </summary>
    public static string? TypeReason(INamedTypeSymbol type)
    {
        type = type.OriginalDefinition;
        if (type.SpecialType == SpecialType.System_Void || Lookup(type) is not null) return null;
        if (IsCompilerOnly(type)) return CompilerHeld;

        var outer = type;
        while (outer.ContainingType is { } container) outer = container;
        if (UnlistedReasons.TryGetValue(MetadataName(outer), out var reason)) return reason;
        return NamespaceReason(outer);
    }

    /// <summary>
    /// Why a framework member may not be used, or null when it may. Script types' members are not judged here.
    /// </summary>
    public static string? MemberReason(ISymbol member)
    {
        member = Definition(member);
        if (member.ContainingType is not { } owner) return Unlisted;
        if (TypeReason(owner) is { } unlisted) return unlisted;
        if (Lookup(owner) is not { } listed) return Unlisted;

        var name = MemberKey(member);
        foreach (var refusal in listed.Refusals)
        {
            if (refusal.Member == name && (refusal.When?.Invoke(member) ?? true)) return refusal.Reason;
        }
        if (listed.Only is { } only && !only.Contains(name)) return listed.OnlyReason;

        return ByConstruction(member, owner) ?? SignatureReason(member);
    }

    /// <summary>
    /// A condition on a member's use that the guard checks where it is called (the table prints it beside the verdict).
    /// </summary>
    public static string? MemberCondition(ISymbol member)
        => CreatesTypeArgument(Definition(member)) ? SerializerCreates : null;

    /// <summary>Generic methods that create instances of their type argument: the serializer's.</summary>
    public static bool CreatesTypeArgument(ISymbol member) =>
        member is IMethodSymbol { IsGenericMethod: true } method
            && method.Name.StartsWith("Deserialize", StringComparison.Ordinal)
            && MetadataName(method.ContainingType.OriginalDefinition) == "System.Text.Json.JsonSerializer";

    /// <summary>The types listed by name, for the surface table.</summary>
    public static IEnumerable<string> ListedTypeNames => Listed.Keys.Order(StringComparer.Ordinal);

    /// <summary>
    /// Whether the type may appear in a framework signature and as what an interpolated string converts to, but nowhere
    /// else.
    /// </summary>
    public static bool IsCompilerOnly(INamedTypeSymbol type)
        => CompilerOnly.Contains(MetadataName(type.OriginalDefinition));

    /// <summary>Whether only the named members of this listed type are allowed.</summary>
    public static bool IsPartlyAllowed(INamedTypeSymbol type) => Lookup(type.OriginalDefinition)?.Only is not null;

    public static bool IsDerivable(INamedTypeSymbol type)
        => DerivableTypes.Contains(MetadataName(type.OriginalDefinition)) || IsException(type);

    public static bool IsException(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
            if (MetadataName(current.OriginalDefinition) == "System.Exception") return true;
        return false;
    }

    public static string Display(ITypeSymbol type) => type.ToDisplayString(ApiFormat);

    public static string MetadataName(INamedTypeSymbol type) => type.ContainingType is { } container
        ? $"{MetadataName(container)}+{type.MetadataName}"
        : type.ContainingNamespace is { IsGlobalNamespace: false } ns
            ? $"{ns.ToDisplayString()}.{type.MetadataName}"
            : type.MetadataName;

    /// <summary>
    /// The member as declared: an accessor is judged as its property or event, an extension method as declared, a
    /// generic one unconstructed.
    /// </summary>
    private static ISymbol Definition(ISymbol member)
    {
        if (member is IMethodSymbol { ReducedFrom: { } unreduced }) member = unreduced;
        if (member is IMethodSymbol { AssociatedSymbol: { } associated }) member = associated;
        return member.OriginalDefinition;
    }

    private static string MemberKey(ISymbol member)
        => member is IMethodSymbol { MethodKind: MethodKind.Constructor } ? ".ctor" : member.Name;

    private static ApiType? Lookup(INamedTypeSymbol type)
    {
        if (Listed.TryGetValue(MetadataName(type), out var listed)) return listed;
        // A public type nested in a type listed with all its members (an enumerator, a key collection) comes with it.
        return type.ContainingType is { } container && Lookup(container) is { Only: null }
            && type.DeclaredAccessibility == Accessibility.Public
            ? new ApiType(MetadataName(type), null, Unlisted, [])
            : null;
    }

    private static string? ByConstruction(ISymbol member, INamedTypeSymbol owner)
    {
        var signature = SignatureTypes(member).ToList();
        var ns = owner.ContainingNamespace.ToDisplayString();
        if (signature.Any(t => Mentions(t, s => s is IPointerTypeSymbol or IFunctionPointerTypeSymbol))
            || (IsSimdType(owner, ns) && (member.Name.StartsWith("Load", StringComparison.Ordinal)
                || member.Name.StartsWith("Store", StringComparison.Ordinal))))
        {
            return MemoryUnsafe;
        }

        if (member.Name.Contains("Unsafe", StringComparison.Ordinal)) return NamedUnsafe;
        if (member.IsStatic && member.Name == "Shared") return Shared;

        // Comparing two types or two delegates binds and calls nothing.
        foreach (var parameter in member.Name is "Equals" or "op_Equality" or "op_Inequality" ? [] : Parameters(member))
        {
            if (Mentions(parameter.Type, IsTypeOrReflection)) return TakesType;
            if (Mentions(parameter.Type, IsUntypedDelegate)) return TakesMethod;
            if (parameter.Type.SpecialType == SpecialType.System_String
                && TypeNameParameters.Contains(parameter.Name)) return TakesTypeName;
        }

        if (ReturnType(member) is { } returned && Mentions(returned, t => t.SpecialType == SpecialType.System_Object)
            && !OwnObjects.Contains((MetadataName(owner), member.Name)))
        {
            return ObjectGraph;
        }

        return signature.Any(t => Mentions(t, IsExpressionTree)) ? ExpressionTrees : null;
    }

    /// <summary>
    /// Every type in the member's signature must be allowed too: a member is only as safe as what it takes and returns.
    /// </summary>
    private static string? SignatureReason(ISymbol member)
    {
        foreach (var type in SignatureTypes(member))
        {
            if (FirstUnlisted(type) is { } unlisted) return $"uses {Display(unlisted.Type)}: {unlisted.Reason}";
        }

        return null;
    }

    private static (ITypeSymbol Type, string Reason)? FirstUnlisted(ITypeSymbol type)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                return FirstUnlisted(array.ElementType);
            case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                return (type, Interop);
            case INamedTypeSymbol named when IsCompilerOnly(named):
                return null;
            case INamedTypeSymbol named:
                if (TypeReason(named) is { } reason) return (named.OriginalDefinition, reason);
                foreach (var argument in named.TypeArguments)
                {
                    if (FirstUnlisted(argument) is { } inner) return inner;
                }

                return null;
            default:
                return null;
        }
    }

    private static IEnumerable<ITypeSymbol> SignatureTypes(ISymbol member)
    {
        if (ReturnType(member) is { } returned) yield return returned;
        foreach (var parameter in Parameters(member)) yield return parameter.Type;
    }

    private static ITypeSymbol? ReturnType(ISymbol member) => member switch
    {
        IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } => null,
        IMethodSymbol method => method.ReturnType,
        IPropertySymbol property => property.Type,
        IFieldSymbol field => field.Type,
        IEventSymbol @event => @event.Type,
        _ => null,
    };

    private static IEnumerable<IParameterSymbol> Parameters(ISymbol member) => member switch
    {
        IMethodSymbol method => method.Parameters,
        IPropertySymbol property => property.Parameters,
        _ => [],
    };

    private static bool Mentions(ITypeSymbol type, Func<ITypeSymbol, bool> predicate) => predicate(type) || type switch
    {
        IArrayTypeSymbol array => Mentions(array.ElementType, predicate),
        IPointerTypeSymbol pointer => Mentions(pointer.PointedAtType, predicate),
        INamedTypeSymbol named => named.TypeArguments.Any(argument => Mentions(argument, predicate)),
        _ => false,
    };

    private static bool IsTypeOrReflection(ITypeSymbol type) => type is INamedTypeSymbol named
        && (MetadataName(named) == "System.Type"
            || named.ContainingNamespace.ToDisplayString().StartsWith("System.Reflection", StringComparison.Ordinal));

    private static bool IsUntypedDelegate(ITypeSymbol type)
        => type is INamedTypeSymbol named && MetadataName(named) is "System.Delegate" or "System.MulticastDelegate";

    private static bool IsExpressionTree(ITypeSymbol type) => type is INamedTypeSymbol named
        && (named.ContainingNamespace.ToDisplayString().StartsWith("System.Linq.Expressions", StringComparison.Ordinal)
            || UnlistedReasons.GetValueOrDefault(MetadataName(named.OriginalDefinition)) == ExpressionTrees);

    private static bool IsSimdType(INamedTypeSymbol type, string ns) =>
        ns.StartsWith("System.Runtime.Intrinsics", StringComparison.Ordinal)
            || (ns == "System.Numerics" && type.Name.StartsWith("Vector", StringComparison.Ordinal));

    private static string NamespaceReason(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace.ToDisplayString();
        return ns switch
        {
            _ when ns == "Workq" || ns.StartsWith("Workq.", StringComparison.Ordinal) => Host,
            _ when IsSimdType(type, ns) || (ns == "System.Numerics"
                && type.Name is "Matrix3x2" or "Matrix4x4" or "Plane" or "Quaternion") => Simd,
            _ when ns.StartsWith("System.Text.Json.Serialization.Metadata", StringComparison.Ordinal) => Metadata,
            _ when ns.StartsWith("System.Linq.Expressions", StringComparison.Ordinal) => ExpressionTrees,
            _ when ns.StartsWith("System.IO", StringComparison.Ordinal) => FileSystem,
            _ when ns.StartsWith("System.Reflection", StringComparison.Ordinal) => Reflection,
            _ when ns.StartsWith("System.Runtime.InteropServices", StringComparison.Ordinal) => Interop,
            _ when type.Name.Contains("Marshal", StringComparison.Ordinal)
                || type.Name.Contains("Unsafe", StringComparison.Ordinal) => MemoryUnsafe,
            _ when ns.StartsWith("System.Runtime.Loader", StringComparison.Ordinal) => Loading,
            _ when ns == "System.Runtime.CompilerServices" => "compiler services are not allowed",
            _ when ns.StartsWith("System.Diagnostics", StringComparison.Ordinal) => Processes,
            _ when ns.StartsWith("System.Net.Sockets", StringComparison.Ordinal) => Egress,
            _ when ns.StartsWith("Microsoft", StringComparison.Ordinal) => $"{ns} is not allowed",
            _ => Unlisted,
        };
    }

    private static FrozenDictionary<string, ApiType> ToDictionary(ApiType[] types)
        => types.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    private static ApiType All(string name, params Refusal[] refusals) => new(name, null, Unlisted, refusals);

    private static ApiType Only(string name, string reason, params string[] members) =>
        new(name, FrozenSet.ToFrozenSet(members, StringComparer.Ordinal), reason, []);

    private static Refusal Refuse(string member, string reason, Func<ISymbol, bool>? when = null)
        => new(member, reason, when);
}
