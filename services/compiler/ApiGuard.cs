using System.Collections.Frozen;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Compiler;

/// <summary>
/// Refuses handler code that reaches outside the sandbox. Every symbol a script names, creates, infers or calls into
/// is judged by <see cref="HandlerApi"/> (only listed types, and of those the members that are safe by construction);
/// what only the syntax shows (unsafe code, async void, finalizers, static writes, what a Type value is used for,
/// what the serializer or a new() constraint would create) is judged here.
/// </summary>
internal static class ApiGuard
{
    private const string AsyncVoid = "async void is not allowed: its exceptions would crash the worker (return a Task)";
    private const string Subclass = "deriving from this type is not allowed: the framework can hand a subclass " +
        "buffers shared with other canvases";
    private const string TypeForName
        = "a Type may be used only for its name (.Name, .FullName, .Namespace) or compared with == and !=";

    /// <summary>
    /// Interfaces through which the framework hands a script's type a span over a shared pooled buffer.
    /// </summary>
    private static readonly FrozenSet<string> DeniedInterfaces = FrozenSet.ToFrozenSet(
        ["System.ISpanFormattable", "System.IUtf8SpanFormattable"]);

    private sealed record Violation(FileLinePositionSpan Span, int Length, string Api, string Reason, bool IsMember);

    public static IReadOnlyList<ScriptError> Check(
        Compilation compilation,
        SyntaxTree tree,
        CancellationToken cancellationToken)
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
        var memberReasons = violations.Where(v => v.IsMember).Select(v => (v.Span.StartLinePosition.Line, v.Reason))
            .ToHashSet();
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
                    Add(node, "unsafe", HandlerApi.Interop, isMember: false);
                    return;
                case MakeRefExpressionSyntax or RefTypeExpressionSyntax or RefValueExpressionSyntax:
                    Add(node, node.GetFirstToken().Text, HandlerApi.Reflection, isMember: false);
                    return;
                case ExpressionSyntax when node.IsKind(SyntaxKind.ArgListExpression):
                    Add(node, "__arglist", HandlerApi.Interop, isMember: false);
                    return;
                case StackAllocArrayCreationExpressionSyntax or ImplicitStackAllocArrayCreationExpressionSyntax:
                    Add(
                        node,
                        "stackalloc",
                        "stackalloc is not allowed (a deep stack takes the whole process down)",
                        isMember: false);
                    return;
                case MethodDeclarationSyntax
                {
                    Modifiers: var am, ReturnType: PredefinedTypeSyntax
                    {
                        Keyword
                    .RawKind: (int)SyntaxKind.VoidKeyword
                    }
                } when am.Any(SyntaxKind.AsyncKeyword):
                case LocalFunctionStatementSyntax
                {
                    Modifiers: var alm, ReturnType: PredefinedTypeSyntax
                    {
                        Keyword
                    .RawKind: (int)SyntaxKind.VoidKeyword
                    }
                } when alm.Any(SyntaxKind.AsyncKeyword):
                    Add(node, "async void", AsyncVoid, isMember: false);
                    break;
                case AnonymousFunctionExpressionSyntax { AsyncKeyword.RawKind: (int)SyntaxKind.AsyncKeyword } lambda
                    when model.GetSymbolInfo(lambda, cancellationToken).Symbol is IMethodSymbol { ReturnsVoid: true }:
                    Add(node, "async void", AsyncVoid, isMember: false);
                    break;
                case DestructorDeclarationSyntax:
                    Add(node, "finalizer", "finalizers are not allowed: they run on the runtime's finalizer thread " +
                        "after the run, where an exception ends the whole process", isMember: false);
                    break;
                case AssignmentExpressionSyntax assignment:
                    CheckStaticWrite(assignment.Left);
                    break;
                case PrefixUnaryExpressionSyntax
                {
                    RawKind: (int)SyntaxKind.PreIncrementExpression or (int)SyntaxKind.PreDecrementExpression
                } prefix:
                    CheckStaticWrite(prefix.Operand);
                    break;
                case PostfixUnaryExpressionSyntax
                {
                    RawKind: (int)SyntaxKind.PostIncrementExpression or (int)SyntaxKind.PostDecrementExpression
                } postfix:
                    CheckStaticWrite(postfix.Operand);
                    break;
                case ArgumentSyntax
                {
                    RefKindKeyword
                    .RawKind: (int)SyntaxKind.RefKeyword or (int)SyntaxKind.OutKeyword
                } byRef:
                    CheckStaticWrite(byRef.Expression);
                    break;
                case MethodDeclarationSyntax { Modifiers: var m } when m.Any(SyntaxKind.ExternKeyword):
                case LocalFunctionStatementSyntax { Modifiers: var lm } when lm.Any(SyntaxKind.ExternKeyword):
                    Add(node, "extern", HandlerApi.Interop, isMember: false);
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
                CheckSymbol(node, info.MoveNextMethod);
                CheckSymbol(node, info.CurrentProperty);
                CheckSymbol(node, info.DisposeMethod);
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
            else if (node is ConstructorInitializerSyntax initializer)
            {
                CheckSymbol(node, model.GetSymbolInfo(initializer, cancellationToken).Symbol);
            }
            else if (node is PrimaryConstructorBaseTypeSyntax primaryBase)
            {
                CheckSymbol(node, model.GetSymbolInfo(primaryBase, cancellationToken).Symbol);
            }

            var declared = node switch
            {
                VariableDeclaratorSyntax or ParameterSyntax or SingleVariableDesignationSyntax
                    or LocalFunctionStatementSyntax or BaseTypeDeclarationSyntax or MethodDeclarationSyntax
                    or PropertyDeclarationSyntax => model.GetDeclaredSymbol(node, cancellationToken),
                _ => null,
            };
            CheckSymbol(node, declared);
            if (declared is INamedTypeSymbol scriptType) CheckAncestry(node, scriptType);
        }

        private void CheckAncestry(SyntaxNode node, INamedTypeSymbol type)
        {
            if (type.BaseType is { } baseType && !IsScriptType(baseType) && !HandlerApi.IsDerivable(baseType))
            {
                Add(node, HandlerApi.Display(baseType.OriginalDefinition), Subclass, isMember: false);
            }

            // What a framework base (System.Enum) implements, the framework formats itself.
            var frameworkBase = type.BaseType;
            while (frameworkBase is not null && IsScriptType(frameworkBase)) frameworkBase = frameworkBase.BaseType;
            foreach (var implemented in type.AllInterfaces
                .Except(frameworkBase?.AllInterfaces ?? [], SymbolEqualityComparer.Default)
                .OfType<INamedTypeSymbol>())
            {
                if (DeniedInterfaces.Contains(HandlerApi.MetadataName(implemented.OriginalDefinition)))
                    Add(node, HandlerApi.Display(
                        implemented.OriginalDefinition), "implementing this interface is not allowed: the framework " +
                            "formats into buffers shared with other canvases", isMember: false);
            }
        }

        /// <summary>
        /// Assigning a static field or property, or subscribing to a static event, of the framework changes it for
        /// every canvas.
        /// </summary>
        private void CheckStaticWrite(ExpressionSyntax target)
        {
            var symbol = model.GetSymbolInfo(target, cancellationToken).Symbol;
            if (symbol is IFieldSymbol or IPropertySymbol or IEventSymbol && symbol.IsStatic
                && symbol.ContainingType is { } owner
                && !IsScriptType(owner))
                Add(target, $"{HandlerApi.Display(owner)}.{symbol.Name}", HandlerApi.ProcessSettings, isMember: true);
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
            // The compiler builds what an interpolated string converts to; the script may not hold one itself.
            if (!(expression is InterpolatedStringExpressionSyntax && typeInfo.ConvertedType is INamedTypeSymbol handler
                && HandlerApi.IsCompilerOnly(handler)))
                CheckType(expression, typeInfo.ConvertedType);
            if (symbolInfo.Symbol is not (ITypeSymbol or IAliasSymbol or INamespaceSymbol)) CheckTypeValue(
                expression,
                typeInfo.Type,
                symbolInfo.Symbol);

            var conversion = model.GetConversion(expression, cancellationToken);
            CheckSymbol(expression, conversion.MethodSymbol);

            // What the syntax calls without naming it.
            switch (expression)
            {
                case AwaitExpressionSyntax awaited:
                    var awaiter = model.GetAwaitExpressionInfo(awaited);
                    CheckSymbol(expression, awaiter.GetAwaiterMethod);
                    CheckSymbol(expression, awaiter.IsCompletedProperty);
                    CheckSymbol(expression, awaiter.GetResultMethod);
                    break;
                case InitializerExpressionSyntax
                {
                    RawKind: (int)SyntaxKind.CollectionInitializerExpression
                } initializer:
                    foreach (var element in initializer.Expressions)
                        CheckSymbol(
                            element,
                            model.GetCollectionInitializerSymbolInfo(element, cancellationToken).Symbol);
                    break;
                case AssignmentExpressionSyntax
                {
                    Left: TupleExpressionSyntax or DeclarationExpressionSyntax
                } deconstruction:
                    CheckSymbol(expression, model.GetDeconstructionInfo(deconstruction).Method);
                    break;
            }
        }

        /// <summary>
        /// A Type is for its name: passed on, stored or converted, it could reach an API that creates or binds through
        /// it (a serializer's Type overload, Convert.ChangeType) however that API is reached.
        /// </summary>
        private void CheckTypeValue(ExpressionSyntax expression, ITypeSymbol? type, ISymbol? symbol)
        {
            if (type is not INamedTypeSymbol named || HandlerApi.MetadataName(named) != "System.Type") return;
            // The name of a member access is judged with the whole access, and the part after ?. with the whole
            // conditional access.
            if (expression.Parent is MemberAccessExpressionSyntax { Name: var name } && name == expression) return;
            if (expression.Parent is MemberBindingExpressionSyntax) return;
            if (expression.Parent is ConditionalAccessExpressionSyntax { WhenNotNull: var whenNotNull }
                && whenNotNull == expression) return;

            SyntaxNode used = expression;
            while (used.Parent is ParenthesizedExpressionSyntax
                or PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.SuppressNullableWarningExpression })
                used = used.Parent;
            switch (used.Parent)
            {
                case MemberAccessExpressionSyntax access when access.Expression == used:
                case ConditionalAccessExpressionSyntax conditional when conditional.Expression == used:
                case BinaryExpressionSyntax
                {
                    RawKind: (int)SyntaxKind.EqualsExpression or (int)SyntaxKind.NotEqualsExpression
                }:
                    return;
            }

            var api = expression is TypeOfExpressionSyntax
                ? "typeof"
                : symbol is IMethodSymbol { Name: "GetType" } ? "GetType()" : "System.Type";
            Add(expression, api, TypeForName, isMember: false);
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

            // An extension method as declared, with the type arguments of this call.
            var member = symbol is IMethodSymbol { ReducedFrom: { } unreduced } reduced
                ? reduced.GetConstructedReducedFrom() ?? unreduced
                : symbol;
            var returnType = member switch
            {
                IMethodSymbol method => method.MethodKind == MethodKind.Constructor ? null : method.ReturnType,
                IPropertySymbol property => property.Type,
                IFieldSymbol field => field.Type,
                IEventSymbol @event => @event.Type,
                _ => null,
            };

            if (member is IMethodSymbol { IsExtern: true }
                && SymbolEqualityComparer.Default.Equals(member.ContainingAssembly, script))
            {
                Add(node, member.Name, HandlerApi.Interop, isMember: true);
            }

            if (member.ContainingType is { } scriptOwner && IsScriptType(scriptOwner))
            {
                // The script's own fields, properties and methods: only their types can be wrong.
                CheckType(node, returnType);
            }
            else if (member.ContainingType is { } owner && HandlerApi.MemberReason(member) is { } reason)
            {
                Add(node, MemberName(member, owner), reason, isMember: true);
            }
            else if (TypeVerdict(returnType) is { } returned)
            {
                var ownerName = member.ContainingType is null ? "" : HandlerApi.Display(member.ContainingType) + ".";
                Add(node, ownerName + member.Name, returned.Reason, isMember: true);
            }

            if (member is IMethodSymbol { TypeArguments: var typeArguments } generic)
            {
                foreach (var argument in typeArguments)
                {
                    CheckType(node, argument);
                }

                if (ConstructedArgument(generic.TypeParameters, typeArguments) is { } constructed)
                    Add(node, constructed.Api, constructed.Reason, isMember: true);
                if (HandlerApi.CreatesTypeArgument(generic)
                    && typeArguments.Select(a => NotData(a, [])).FirstOrDefault(d => d is not null) is { } notData)
                    Add(
                        node,
                        MemberName(member, member.ContainingType!),
                        $"{HandlerApi.SerializerCreates}, and {notData} is not one",
                        isMember: true);
            }
        }

        /// <summary>
        /// A type argument for a new() constraint is constructed by its parameterless constructor, which must be
        /// allowed.
        /// </summary>
        private (string Api, string Reason)? ConstructedArgument(
            ImmutableArray<ITypeParameterSymbol> parameters,
            ImmutableArray<ITypeSymbol> arguments)
        {
            for (var i = 0; i < parameters.Length && i < arguments.Length; i++)
            {
                if (!parameters[i].HasConstructorConstraint
                    || arguments[i] is not INamedTypeSymbol { TypeKind: TypeKind.Class } created
                    || IsScriptType(created))
                    continue;
                var constructor = created.InstanceConstructors.FirstOrDefault(c => c.Parameters.IsEmpty);
                if (constructor is not null && HandlerApi.MemberReason(constructor) is { } reason)
                    return ($"new {HandlerApi.Display(created)}", reason);
            }

            return null;
        }

        /// <summary>
        /// What the serializer would create for a type, if it is not data: numbers, strings, dates, JSON, collections
        /// of these, and the script's own types made of them (their public properties and fields, and their
        /// constructors' parameters).
        /// </summary>
        private string? NotData(ITypeSymbol type, HashSet<ITypeSymbol> seen)
        {
            if (!seen.Add(type)) return null;
            switch (type)
            {
                case IArrayTypeSymbol array:
                    return NotData(array.ElementType, seen);
                case INamedTypeSymbol { TypeKind: TypeKind.Enum }:
                    return null;
                case INamedTypeSymbol named when named.IsAnonymousType || IsScriptType(named):
                    foreach (var member in named.GetMembers())
                    {
                        var created = member switch
                        {
                            IPropertySymbol { IsStatic: false, IsIndexer: false } property when IsSerialized(
                                property) => [property.Type],
                            IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false } field when IsSerialized(
                                field) => [field.Type],
                            IMethodSymbol { MethodKind: MethodKind.Constructor } constructor when IsSerialized(
                                constructor) =>
                                constructor.Parameters.Select(p => p.Type),
                            _ => [],
                        };
                        if (created.Select(t => NotData(t, seen))
                            .FirstOrDefault(d => d is not null) is { } inner) return inner;
                    }

                    return named.BaseType
                        is { SpecialType: SpecialType.System_Object or SpecialType.System_ValueType } or null
                        ? null
                        : NotData(named.BaseType, seen);
                case INamedTypeSymbol named when HandlerApi.IsSerializerData(named):
                    return named.TypeArguments.Select(a => NotData(a, seen)).FirstOrDefault(d => d is not null);
                default:
                    return HandlerApi.Display(type);
            }
        }

        private static bool IsSerialized(ISymbol member) => member.DeclaredAccessibility == Accessibility.Public
            || member.GetAttributes()
                .Any(a => a.AttributeClass?.Name is "JsonIncludeAttribute" or "JsonConstructorAttribute");

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
                    return ("pointers", HandlerApi.Interop);
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

                    if (ConstructedArgument(
                        named.TypeParameters,
                        named.TypeArguments) is { } constructed) return constructed;
                    return named.IsAnonymousType || IsScriptType(named)
                        || HandlerApi.TypeReason(named) is not { } reason
                        ? null
                        : (HandlerApi.Display(named.OriginalDefinition), reason);
                default:
                    return null;
            }
        }

        private bool IsScriptType(INamedTypeSymbol type)
            => SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, script);

        private void Add(SyntaxNode node, string api, string reason, bool isMember) =>
            Violations.Add(new Violation(node.GetLocation().GetLineSpan(), node.Span.Length, api, reason, isMember));
    }

    /// <summary>
    /// The member as the code names it: a constructor as new, an event's add or remove accessor as the event.
    /// </summary>
    private static string MemberName(ISymbol member, INamedTypeSymbol owner) => member switch
    {
        IMethodSymbol { MethodKind: MethodKind.Constructor } => $"new {HandlerApi.Display(owner)}",
        IMethodSymbol { AssociatedSymbol: { } associated } => $"{HandlerApi.Display(owner)}.{associated.Name}",
        _ => $"{HandlerApi.Display(owner)}.{member.Name}",
    };
}
