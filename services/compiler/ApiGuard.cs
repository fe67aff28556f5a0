using System.Collections.Frozen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Workq.Shared.Scripting;

namespace Workq.Compiler;

/// <summary>
/// Refuses handler code that reaches outside the sandbox. Every type a script names, creates,
/// infers or calls into must live in an allowed namespace and not be on the deny list; members
/// are checked through their declaring type and their return type.
/// </summary>
internal static class ApiGuard
{
    private const string FileSystem = "file system access is not allowed";
    private const string Processes = "processes and diagnostics are not allowed";
    private const string Reflection = "reflection is not allowed";
    private const string Interop = "interop and unsafe code are not allowed";
    private const string Loading = "assembly loading is not allowed";
    private const string EnvironmentAccess = "environment access is not allowed";
    private const string Runtime = "controlling the runtime is not allowed";
    private const string Threads = "threads and OS synchronization are not allowed";
    private const string AsyncVoid = "async void is not allowed: its exceptions would crash the worker (return a Task)";
    private const string ConsoleAccess = "console access is not allowed (use Log)";
    private const string Host = "host internals are not accessible";
    private const string Egress = "only the Http client given to the handler may make requests";
    private const string Shared = "shared process state is not allowed: other canvases use it too";
    private const string Background = "work that outlives the event is not allowed";
    private const string ProcessSettings = "changing process-wide settings is not allowed";
    private const string Metadata = "serializer metadata can reach host objects and is not allowed";
    private const string Subclass = "deriving from this type is not allowed: the framework can hand a subclass buffers shared with other canvases";

    private static readonly FrozenSet<string> AllowedNamespaces = FrozenSet.ToFrozenSet(
    [
        "System", "System.Linq", "System.Threading", "System.Net", "System.Net.Mime",
        "System.Globalization", "System.Numerics", "System.Diagnostics.CodeAnalysis",
        // Restricted to the types in RestrictedNamespaceTypes:
        "System.IO", "System.Diagnostics", "System.Runtime.CompilerServices", "System.Net.Sockets",
    ]);

    // A namespace is allowed with everything under it.
    private static readonly string[] AllowedNamespaceTrees =
        ["System.Collections", "System.Text", "System.Threading.Tasks", "System.Threading.Channels", "System.Buffers", "System.Net.Http"];

    private static readonly FrozenDictionary<string, (FrozenSet<string> Types, string Reason)> RestrictedNamespaceTypes =
        new Dictionary<string, (FrozenSet<string>, string)>
        {
            ["System.IO"] = (FrozenSet.ToFrozenSet(
            [
                "Stream", "MemoryStream", "StreamReader", "StreamWriter", "StringReader", "StringWriter", "TextReader",
                "TextWriter", "BinaryReader", "BinaryWriter", "BufferedStream", "SeekOrigin", "IOException",
                "EndOfStreamException", "InvalidDataException",
            ]), FileSystem),
            ["System.Diagnostics"] = (FrozenSet.ToFrozenSet(["Stopwatch"]), Processes),
            // What HttpRequestException and IPAddress report; no sockets of the script's own.
            ["System.Net.Sockets"] = (FrozenSet.ToFrozenSet(["SocketError", "SocketException", "AddressFamily"]), Egress),
            ["System.Runtime.CompilerServices"] = (FrozenSet.ToFrozenSet(
            [
                // What await, interpolated strings and async streams bind to.
                "TaskAwaiter", "TaskAwaiter`1", "ConfiguredTaskAwaitable", "ConfiguredTaskAwaitable`1", "ValueTaskAwaiter",
                "ValueTaskAwaiter`1", "ConfiguredValueTaskAwaitable", "ConfiguredValueTaskAwaitable`1", "YieldAwaitable",
                "ConfiguredCancelableAsyncEnumerable`1", "DefaultInterpolatedStringHandler", "FormattableStringFactory",
                "ITuple", "EnumeratorCancellationAttribute", "CallerMemberNameAttribute", "CallerLineNumberAttribute",
                "CallerFilePathAttribute", "CallerArgumentExpressionAttribute", "IsExternalInit",
            ]), "compiler services are not allowed"),
        }.ToFrozenDictionary();

    // Types of allowed namespaces that are still dangerous, by metadata name.
    private static readonly FrozenDictionary<string, string> DeniedTypes = new Dictionary<string, string>
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
        ["System.Runtime.CompilerServices.Unsafe"] = Interop,
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
        // Other ways out than the policed Http client, and process-wide network settings.
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
        // Work scheduled to run after the event, or on threads of its own.
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
    }.ToFrozenDictionary();

    /// <summary>Members of allowed types that are still dangerous, by declaring type's metadata name and member name.</summary>
    private static readonly FrozenDictionary<(string Type, string Member), string> DeniedMembers = new Dictionary<(string, string), string>
    {
        [("System.Net.Http.HttpClient", ".ctor")] = Egress,
        [("System.Net.Http.HttpClient", "DefaultProxy")] = ProcessSettings,
        [("System.Net.Http.HttpMessageInvoker", ".ctor")] = Egress,
        [("System.Buffers.ArrayPool`1", "Shared")] = Shared + " (ArrayPool<T>.Create() makes a private pool)",
        [("System.Buffers.MemoryPool`1", "Shared")] = Shared,
        [("System.Threading.Tasks.Task", "Run")] = Background,
        [("System.Threading.Tasks.Task", "Factory")] = Background,
        [("System.Threading.Tasks.Task", "Start")] = Background,
        [("System.Threading.Tasks.Task", "ContinueWith")] = Background + " (use await)",
        [("System.Threading.Tasks.Task", ".ctor")] = Background,
        [("System.Threading.Tasks.Task`1", "Factory")] = Background,
        [("System.Threading.Tasks.Task`1", "ContinueWith")] = Background + " (use await)",
        [("System.Threading.Tasks.Task`1", ".ctor")] = Background,
        [("System.Threading.CancellationToken", "Register")] = Background,
        [("System.Threading.CancellationToken", "UnsafeRegister")] = Background,
        [("System.TimeProvider", "CreateTimer")] = Background,
        [("System.String", "Intern")] = Shared,
        [("System.String", "IsInterned")] = Shared,
        [("System.TimeZoneInfo", "ClearCachedData")] = ProcessSettings,
        [("System.Globalization.CultureInfo", "ClearCachedData")] = ProcessSettings,
        [("System.Globalization.CultureInfo", "DefaultThreadCurrentCulture")] = ProcessSettings,
        [("System.Globalization.CultureInfo", "DefaultThreadCurrentUICulture")] = ProcessSettings,
        [("System.Text.Encoding", "RegisterProvider")] = ProcessSettings,
        [("System.Text.Json.JsonSerializerOptions", "TypeInfoResolver")] = Metadata,
        [("System.Text.Json.JsonSerializerOptions", "TypeInfoResolverChain")] = Metadata,
        [("System.Text.Json.JsonSerializerOptions", "GetTypeInfo")] = Metadata,
        [("System.Text.Json.JsonSerializerOptions", "TryGetTypeInfo")] = Metadata,
    }.ToFrozenDictionary();

    /// <summary>
    /// What a script's own types may derive from. Framework base classes such as Stream or TextWriter pass
    /// pooled arrays (that held other canvases' data) to overridable methods, so only these are open.
    /// </summary>
    private static readonly FrozenSet<string> AllowedBaseTypes = FrozenSet.ToFrozenSet(
    [
        "System.Object", "System.ValueType", "System.Enum", "System.EventArgs", "System.Attribute",
        "System.Collections.Generic.Comparer`1", "System.Collections.Generic.EqualityComparer`1",
        "System.Collections.ObjectModel.Collection`1", "System.Collections.ObjectModel.KeyedCollection`2",
        "System.Text.Json.Serialization.JsonConverter`1",
    ]);

    /// <summary>Interfaces through which the framework hands a script's type a span over a shared pooled buffer.</summary>
    private static readonly FrozenSet<string> DeniedInterfaces = FrozenSet.ToFrozenSet(["System.ISpanFormattable", "System.IUtf8SpanFormattable"]);

    // System.Type members that reveal nothing beyond the type's name and shape.
    private static readonly FrozenSet<string> AllowedTypeMembers = FrozenSet.ToFrozenSet(
    [
        "Name", "FullName", "Namespace", "IsArray", "IsEnum", "IsClass", "IsInterface", "IsValueType", "IsPrimitive",
        "IsGenericType", "IsAbstract", "IsSealed", "IsAssignableFrom", "IsAssignableTo", "IsInstanceOfType",
        "ToString", "Equals", "GetHashCode", "op_Equality", "op_Inequality",
    ]);

    // Target hands out the object a delegate closes over: for a method group such as Emit, the handler's globals.
    private static readonly FrozenSet<string> DeniedDelegateMembers = FrozenSet.ToFrozenSet(["CreateDelegate", "DynamicInvoke", "Method", "Target"]);

    private static readonly FrozenSet<string> ScriptGlobals =
        FrozenSet.ToFrozenSet(["Event", "Meta", "Emit", "Log", "Http", "CancellationToken"]);

    private static readonly FrozenSet<string> MetaMembers = FrozenSet.ToFrozenSet(
    [
        "Id", "Canvas", "Worker", "EnqueuedAt", "Attempt", "Depth", "ToString", "Equals", "GetHashCode", "op_Equality",
        "op_Inequality", "Deconstruct",
    ]);

    private static readonly SymbolDisplayFormat ApiFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.ExpandNullable);

    private sealed record Violation(FileLinePositionSpan Span, int Length, string Api, string Reason, bool IsMember);

    public static IReadOnlyList<ScriptError> Check(Compilation compilation, SyntaxTree tree, CancellationToken cancellationToken)
    {
        var model = compilation.GetSemanticModel(tree);
        var walker = new Walker(model, compilation.Assembly, cancellationToken);
        foreach (var node in tree.GetRoot(cancellationToken).DescendantNodesAndSelf())
        {
            walker.Visit(node);
        }

        return Report(walker.Violations);
    }

    private static List<ScriptError> Report(List<Violation> violations)
    {
        // "File" and "File.ReadAllText" on one line are one mistake: keep the member, which names more.
        var memberReasons = violations.Where(v => v.IsMember).Select(v => (v.Span.StartLinePosition.Line, v.Reason)).ToHashSet();
        return violations
            .Where(v => v.IsMember || !memberReasons.Contains((v.Span.StartLinePosition.Line, v.Reason)))
            // The innermost node (the member's name) is the most precise place to point at.
            .OrderBy(v => v.Length)
            .DistinctBy(v => (v.Span.StartLinePosition.Line, v.Api))
            .OrderBy(v => v.Span.StartLinePosition)
            .Select(v => new ScriptError(
                v.Span.StartLinePosition.Line + 1,
                v.Span.StartLinePosition.Character + 1,
                $"forbidden API: {v.Api} ({v.Reason})"))
            .ToList();
    }

    private sealed class Walker(SemanticModel model, IAssemblySymbol script, CancellationToken cancellationToken)
    {
        public List<Violation> Violations { get; } = [];

        public void Visit(SyntaxNode node)
        {
            switch (node)
            {
                case UnsafeStatementSyntax or PointerTypeSyntax or FunctionPointerTypeSyntax or FixedStatementSyntax:
                    Add(node, "unsafe", Interop, isMember: false);
                    return;
                case MakeRefExpressionSyntax or RefTypeExpressionSyntax or RefValueExpressionSyntax:
                    Add(node, node.GetFirstToken().Text, Reflection, isMember: false);
                    return;
                case ExpressionSyntax when node.IsKind(SyntaxKind.ArgListExpression):
                    Add(node, "__arglist", Interop, isMember: false);
                    return;
                case StackAllocArrayCreationExpressionSyntax or ImplicitStackAllocArrayCreationExpressionSyntax:
                    Add(node, "stackalloc", "stackalloc is not allowed (a deep stack takes the whole process down)", isMember: false);
                    return;
                case MethodDeclarationSyntax { Modifiers: var am, ReturnType: PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword } } when am.Any(SyntaxKind.AsyncKeyword):
                case LocalFunctionStatementSyntax { Modifiers: var alm, ReturnType: PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword } } when alm.Any(SyntaxKind.AsyncKeyword):
                    Add(node, "async void", AsyncVoid, isMember: false);
                    break;
                case AnonymousFunctionExpressionSyntax { AsyncKeyword.RawKind: (int)SyntaxKind.AsyncKeyword } lambda
                    when model.GetSymbolInfo(lambda, cancellationToken).Symbol is IMethodSymbol { ReturnsVoid: true }:
                    Add(node, "async void", AsyncVoid, isMember: false);
                    break;
                case DestructorDeclarationSyntax:
                    Add(node, "finalizer", "finalizers are not allowed: they run on the runtime's finalizer thread after the run, where an exception ends the whole process", isMember: false);
                    break;
                case AssignmentExpressionSyntax assignment:
                    CheckStaticWrite(assignment.Left);
                    break;
                case PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PreIncrementExpression or (int)SyntaxKind.PreDecrementExpression } prefix:
                    CheckStaticWrite(prefix.Operand);
                    break;
                case PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PostIncrementExpression or (int)SyntaxKind.PostDecrementExpression } postfix:
                    CheckStaticWrite(postfix.Operand);
                    break;
                case ArgumentSyntax { RefKindKeyword.RawKind: (int)SyntaxKind.RefKeyword or (int)SyntaxKind.OutKeyword } byRef:
                    CheckStaticWrite(byRef.Expression);
                    break;
                case MethodDeclarationSyntax { Modifiers: var m } when m.Any(SyntaxKind.ExternKeyword):
                case LocalFunctionStatementSyntax { Modifiers: var lm } when lm.Any(SyntaxKind.ExternKeyword):
                    Add(node, "extern", Interop, isMember: false);
                    break;
            }

            if (node is ExpressionSyntax expression)
            {
                VisitExpression(expression);
            }
            else if (node is ForEachStatementSyntax or ForEachVariableStatementSyntax)
            {
                var info = model.GetForEachStatementInfo((CommonForEachStatementSyntax)node);
                CheckSymbol(node, info.GetEnumeratorMethod);
                CheckSymbol(node, info.CurrentProperty);
                CheckType(node, info.ElementType);
            }
            else if (node is QueryClauseSyntax clause)
            {
                var info = model.GetQueryClauseInfo(clause, cancellationToken);
                CheckSymbol(node, info.CastInfo.Symbol);
                CheckSymbol(node, info.OperationInfo.Symbol);
            }
            else if (node is SelectOrGroupClauseSyntax selectOrGroup)
            {
                CheckSymbol(node, model.GetSymbolInfo(selectOrGroup, cancellationToken).Symbol);
            }
            else if (node is OrderingSyntax ordering)
            {
                CheckSymbol(node, model.GetSymbolInfo(ordering, cancellationToken).Symbol);
            }

            var declared = node switch
            {
                VariableDeclaratorSyntax or ParameterSyntax or SingleVariableDesignationSyntax or LocalFunctionStatementSyntax
                    or BaseTypeDeclarationSyntax or MethodDeclarationSyntax or PropertyDeclarationSyntax => model.GetDeclaredSymbol(node, cancellationToken),
                _ => null,
            };
            CheckSymbol(node, declared);
            if (declared is INamedTypeSymbol scriptType) CheckAncestry(node, scriptType);
        }

        private void CheckAncestry(SyntaxNode node, INamedTypeSymbol type)
        {
            if (type.BaseType is { } baseType && !IsScriptType(baseType)
                && !AllowedBaseTypes.Contains(MetadataName(baseType.OriginalDefinition)) && !IsException(baseType))
            {
                Add(node, Display(baseType.OriginalDefinition), Subclass, isMember: false);
            }

            foreach (var implemented in type.AllInterfaces)
            {
                if (DeniedInterfaces.Contains(MetadataName(implemented.OriginalDefinition)))
                    Add(node, Display(implemented.OriginalDefinition), "implementing this interface is not allowed: the framework formats into buffers shared with other canvases", isMember: false);
            }
        }

        private static bool IsException(INamedTypeSymbol type)
        {
            for (var current = type; current is not null; current = current.BaseType)
                if (MetadataName(current.OriginalDefinition) == "System.Exception") return true;
            return false;
        }

        /// <summary>Assigning a static field or property, or subscribing to a static event, of the framework changes it for every canvas.</summary>
        private void CheckStaticWrite(ExpressionSyntax target)
        {
            var symbol = model.GetSymbolInfo(target, cancellationToken).Symbol;
            if (symbol is IFieldSymbol or IPropertySymbol or IEventSymbol && symbol.IsStatic && symbol.ContainingType is { } owner && !IsScriptType(owner))
                Add(target, $"{Display(owner)}.{symbol.Name}", ProcessSettings, isMember: true);
        }

        private void VisitExpression(ExpressionSyntax expression)
        {
            var symbolInfo = model.GetSymbolInfo(expression, cancellationToken);
            // Candidates too: an error-free compilation binds them only for method groups and attributes.
            CheckSymbol(expression, symbolInfo.Symbol);
            foreach (var candidate in symbolInfo.CandidateSymbols)
            {
                CheckSymbol(expression, candidate);
            }

            var typeInfo = model.GetTypeInfo(expression, cancellationToken);
            CheckType(expression, typeInfo.Type);
            CheckType(expression, typeInfo.ConvertedType);

            var conversion = model.GetConversion(expression, cancellationToken);
            CheckSymbol(expression, conversion.MethodSymbol);
        }

        private void CheckSymbol(SyntaxNode node, ISymbol? symbol)
        {
            switch (symbol)
            {
                case null or INamespaceSymbol or ILabelSymbol or IDiscardSymbol or IPreprocessingSymbol:
                    return;
                case IAliasSymbol alias:
                    CheckSymbol(node, alias.Target);
                    return;
                case ITypeSymbol type:
                    CheckType(node, type);
                    return;
                case ILocalSymbol local:
                    CheckType(node, local.Type);
                    return;
                case IParameterSymbol parameter:
                    CheckType(node, parameter.Type);
                    return;
                case IRangeVariableSymbol:
                    return;
            }

            var member = symbol is IMethodSymbol { ReducedFrom: { } unreduced } ? unreduced : symbol;
            var returnType = member switch
            {
                IMethodSymbol method => method.MethodKind == MethodKind.Constructor ? null : method.ReturnType,
                IPropertySymbol property => property.Type,
                IFieldSymbol field => field.Type,
                IEventSymbol @event => @event.Type,
                _ => null,
            };

            if (member is IMethodSymbol { IsExtern: true } && SymbolEqualityComparer.Default.Equals(member.ContainingAssembly, script))
            {
                Add(node, member.Name, Interop, isMember: true);
            }

            if (member.ContainingType is { } scriptOwner && IsScriptType(scriptOwner))
            {
                // The script's own fields, properties and methods: only their types can be wrong.
                CheckType(node, returnType);
            }
            else if (member.ContainingType is { } owner && MemberVerdict(member, owner) is { } reason)
            {
                Add(node, MemberName(member, owner), reason, isMember: true);
            }
            else if (TypeVerdict(returnType) is { } returned)
            {
                var ownerName = member.ContainingType is null ? "" : Display(member.ContainingType) + ".";
                Add(node, ownerName + member.Name, returned.Reason, isMember: true);
            }

            if (member is IMethodSymbol { TypeArguments: var typeArguments })
            {
                foreach (var argument in typeArguments)
                {
                    CheckType(node, argument);
                }
            }
        }

        private string? MemberVerdict(ISymbol member, INamedTypeSymbol owner)
        {
            var ownerName = MetadataName(owner.OriginalDefinition);
            var memberName = member is IMethodSymbol { MethodKind: MethodKind.Constructor } ? ".ctor" : member.Name;
            if (DeniedMembers.TryGetValue((ownerName, memberName), out var denied)) return denied;
            switch (ownerName)
            {
                case "Workq.Shared.Scripting.HandlerGlobals":
                    return ScriptGlobals.Contains(member.Name) ? null : Host;
                case "Workq.Shared.Scripting.HandlerMeta":
                    return MetaMembers.Contains(member.Name) ? null : Host;
                case "System.Type" or "System.Reflection.MemberInfo":
                    return AllowedTypeMembers.Contains(member.Name) ? null : Reflection;
                case "System.Delegate" or "System.MulticastDelegate":
                    return DeniedDelegateMembers.Contains(member.Name) ? Reflection : null;
                case "System.IO.StreamReader" or "System.IO.StreamWriter"
                    when member is IMethodSymbol { MethodKind: MethodKind.Constructor, Parameters: [{ Type.SpecialType: SpecialType.System_String }, ..] }:
                    return FileSystem;
            }

            return TypeVerdict(owner)?.Reason;
        }

        private void CheckType(SyntaxNode node, ITypeSymbol? type)
        {
            if (TypeVerdict(type) is { } verdict)
            {
                Add(node, verdict.Api, verdict.Reason, isMember: false);
            }
        }

        private (string Api, string Reason)? TypeVerdict(ITypeSymbol? type)
        {
            switch (type)
            {
                case null or ITypeParameterSymbol or IErrorTypeSymbol:
                    return null;
                case IDynamicTypeSymbol:
                    return ("dynamic", "dynamic code is not allowed");
                case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                    return ("pointers", Interop);
                case IArrayTypeSymbol array:
                    return TypeVerdict(array.ElementType);
                case INamedTypeSymbol named:
                    foreach (var argument in named.TypeArguments)
                    {
                        if (TypeVerdict(argument) is { } inner)
                        {
                            return inner;
                        }
                    }

                    return NamedTypeReason(named) is { } reason ? (Display(named.OriginalDefinition), reason) : null;
                default:
                    return null;
            }
        }

        private string? NamedTypeReason(INamedTypeSymbol type)
        {
            if (type.IsAnonymousType || IsScriptType(type))
            {
                return null;
            }

            var outer = type;
            while (outer.ContainingType is { } container)
            {
                outer = container;
            }

            var ns = outer.ContainingNamespace.ToDisplayString();
            var name = MetadataName(outer.OriginalDefinition);
            if (DeniedTypes.TryGetValue(name, out var denied))
            {
                return denied;
            }

            if (ns.StartsWith("System.Text.Json.Serialization.Metadata", StringComparison.Ordinal))
            {
                return Metadata;
            }

            if (ns == "Workq" || ns.StartsWith("Workq.", StringComparison.Ordinal))
            {
                return name == "Workq.Shared.Scripting.HandlerMeta" ? null : Host;
            }

            if (RestrictedNamespaceTypes.TryGetValue(ns, out var restricted))
            {
                return restricted.Types.Contains(outer.MetadataName) ? null : restricted.Reason;
            }

            if (AllowedNamespaces.Contains(ns) || AllowedNamespaceTrees.Any(tree => ns == tree || ns.StartsWith(tree + ".", StringComparison.Ordinal)))
            {
                return null;
            }

            return NamespaceReason(ns);
        }

        private static string NamespaceReason(string ns) => ns switch
        {
            _ when ns.StartsWith("System.IO", StringComparison.Ordinal) => FileSystem,
            _ when ns.StartsWith("System.Reflection", StringComparison.Ordinal) => Reflection,
            _ when ns.StartsWith("System.Runtime.InteropServices", StringComparison.Ordinal) => Interop,
            _ when ns.StartsWith("System.Runtime.Loader", StringComparison.Ordinal) => Loading,
            _ when ns.StartsWith("System.Diagnostics", StringComparison.Ordinal) => Processes,
            _ when ns.StartsWith("Microsoft", StringComparison.Ordinal) => $"{ns} is not allowed",
            _ => $"namespace {(ns.Length == 0 ? "<global>" : ns)} is not allowed",
        };

        private bool IsScriptType(INamedTypeSymbol type) => SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, script);

        private void Add(SyntaxNode node, string api, string reason, bool isMember) =>
            Violations.Add(new Violation(node.GetLocation().GetLineSpan(), node.Span.Length, api, reason, isMember));
    }

    private static string MemberName(ISymbol member, INamedTypeSymbol owner) =>
        member is IMethodSymbol { MethodKind: MethodKind.Constructor } ? $"new {Display(owner)}" : $"{Display(owner)}.{member.Name}";

    private static string Display(ITypeSymbol type) => type.ToDisplayString(ApiFormat);

    private static string MetadataName(INamedTypeSymbol type) =>
        type.ContainingNamespace is { IsGlobalNamespace: false } ns ? $"{ns.ToDisplayString()}.{type.MetadataName}" : type.MetadataName;
}
