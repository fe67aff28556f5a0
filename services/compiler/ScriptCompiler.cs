using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Scripting;

namespace Workq.Compiler;

/// <summary>
/// Compiles handler code (a C# script body over <see cref="HandlerGlobals"/>), refuses code that
/// leaves the sandbox, and loads each version into its own collectible context.
/// Thread-safe; meant to be a singleton.
/// </summary>
public sealed class ScriptCompiler
{
    private static readonly string[] Imports =
    [
        "System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Text.Json",
        "System.Text.Json.Nodes", "System.Threading", "System.Threading.Tasks", "System.Net.Http",
    ];

    // Only what handlers need: the guard decides what is allowed, and these decide what even exists.
    private static readonly string[] ReferencedAssemblies =
    [
        "System.Private.CoreLib", "System.Private.Uri", "System.Runtime", "System.Collections",
            "System.Collections.Concurrent", "System.Linq",
        "System.Memory", "System.Runtime.Numerics", "System.Text.RegularExpressions", "System.Text.Json",
        "System.Text.Encodings.Web", "System.Threading", "System.Net.Http", "System.Net.Primitives",
            "System.Web.HttpUtility",
    ];

    private readonly ScriptOptions _options;

    public ScriptCompiler()
    {
        var references = ReferencedAssemblies
            .Select(name => MetadataReference.CreateFromFile(Assembly.Load(name).Location))
            .Append(MetadataReference.CreateFromFile(typeof(HandlerGlobals).Assembly.Location));

        _options = ScriptOptions.Default
            .WithReferences(references)
            .WithImports(Imports)
            .WithAllowUnsafe(false)
            .WithCheckOverflow(false)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithEmitDebugInformation(false)
            // #r and #load would read files at compile time: resolve nothing.
            .WithMetadataResolver(NoMetadataResolver.Instance)
            .WithSourceResolver(NoSourceResolver.Instance);
    }

    /// <summary>Pays the first-compile cost (about a second) up front.</summary>
    public void Warmup()
    {
        using var handler = Compile("Log(Event?.ToJsonString() ?? \"\"); return 1;").Handler;
    }

    /// <summary>
    /// Compiles and loads the code here: for tests and the in-process mode's tools; services load stored assemblies.
    /// </summary>
    public ScriptCompilation Compile(string code, CancellationToken cancellationToken = default)
    {
        var emitted = Emit(code, cancellationToken);
        return emitted.Assembly is null
            ? ScriptCompilation.Failed(emitted.Errors)
            : ScriptCompilation.Compiled(CompiledHandler.Load(emitted.Assembly));
    }

    /// <summary>
    /// Compiles the code to an assembly, or to the errors that refuse it. The bytes are what control stores with the
    /// worker's version and what runners load (<see cref="CompiledHandler.Load"/>), so no service but the compiler runs
    /// Roslyn.
    /// </summary>
    public HandlerAssembly Emit(string code, CancellationToken cancellationToken = default)
    {
        var compilation = CreateCompilation(code);
        var tree = compilation.SyntaxTrees.Single();

        var errors = compilation.GetDiagnostics(cancellationToken)
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(ToError)
            .Distinct()
            .ToList();
        if (errors.Count > 0)
        {
            return new HandlerAssembly(null, errors);
        }

        var forbidden = ApiGuard.Check(compilation, tree, cancellationToken);
        if (forbidden.Count > 0)
        {
            return new HandlerAssembly(null, forbidden);
        }

        using var pe = new MemoryStream();
        var emitted = compilation.Emit(pe, cancellationToken: cancellationToken);
        if (!emitted.Success)
        {
            // Diagnostics were clean: Roslyn emits no script without a statement (code that is empty or only comments
            // and usings).
            var first = emitted.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
            return new HandlerAssembly(null, [first is null
                ? new ScriptError(
                    1,
                    1,
                    "the code has no statement to run: write at least one (return null; does nothing)")
                : ToError(first)]);
        }
        return new HandlerAssembly(pe.ToArray(), []);
    }

    /// <summary>
    /// The code as a script over <see cref="HandlerGlobals"/>, against the assemblies handlers are compiled against.
    /// </summary>
    internal Compilation CreateCompilation(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return CSharpScript.Create<object>(code, _options, typeof(HandlerGlobals)).GetCompilation();
    }

    private static ScriptError ToError(Diagnostic diagnostic)
    {
        var position = diagnostic.Location.IsInSource
            ? diagnostic.Location.GetLineSpan().StartLinePosition
            : default;
        return new ScriptError(
            position.Line + 1,
            position.Character + 1,
            $"{diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    private sealed class NoMetadataResolver : MetadataReferenceResolver
    {
        public static readonly NoMetadataResolver Instance = new();

        public override ImmutableArray<PortableExecutableReference> ResolveReference(
            string reference,
            string? baseFilePath,
            MetadataReferenceProperties properties) => [];

        public override bool Equals(object? other) => other is NoMetadataResolver;

        public override int GetHashCode() => nameof(NoMetadataResolver).GetHashCode(StringComparison.Ordinal);
    }

    private sealed class NoSourceResolver : SourceReferenceResolver
    {
        public static readonly NoSourceResolver Instance = new();

        public override string? NormalizePath(string path, string? baseFilePath) => null;

        public override string? ResolveReference(string path, string? baseFilePath) => null;

        public override Stream OpenRead(string resolvedPath) => throw new NotSupportedException("#load is not allowed");

        public override bool Equals(object? other) => other is NoSourceResolver;

        public override int GetHashCode() => nameof(NoSourceResolver).GetHashCode(StringComparison.Ordinal);
    }
}
