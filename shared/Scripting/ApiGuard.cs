using System.Collections.Frozen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Workq.Shared.Scripting;

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
    private const string ConsoleAccess = "console access is not allowed (use Log)";
    private const string Host = "host internals are not accessible";

    private static readonly FrozenSet<string> AllowedNamespaces = FrozenSet.ToFrozenSet(
    [
        "System", "System.Linq", "System.Threading", "System.Net", "System.Net.Sockets", "System.Net.Mime",
        "System.Globalization", "System.Numerics", "System.Diagnostics.CodeAnalysis",
        // Restricted to the types in RestrictedNamespaceTypes:
        "System.IO", "System.Diagnostics", "System.Runtime.CompilerServices",
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
    }.ToFrozenDictionary();

    // System.Type members that reveal nothing beyond the type's name and shape.
    private static readonly FrozenSet<string> AllowedTypeMembers = FrozenSet.ToFrozenSet(
    [
        "Name", "FullName", "Namespace", "IsArray", "IsEnum", "IsClass", "IsInterface", "IsValueType", "IsPrimitive",
        "IsGenericType", "IsAbstract", "IsSealed", "IsAssignableFrom", "IsAssignableTo", "IsInstanceOfType",
        "ToString", "Equals", "GetHashCode", "op_Equality", "op_Inequality",
    ]);

    private static readonly FrozenSet<string> DeniedDelegateMembers = FrozenSet.ToFrozenSet(["CreateDelegate", "DynamicInvoke", "Method"]);

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
