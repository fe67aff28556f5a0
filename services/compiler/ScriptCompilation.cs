using System.Diagnostics.CodeAnalysis;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Compiler;

/// <summary>
/// The outcome of <see cref="ScriptCompiler.Compile"/>: a handler, or the errors that refused the code.
/// </summary>
public sealed record ScriptCompilation(CompiledHandler? Handler, IReadOnlyList<ScriptError> Errors)
{
    [MemberNotNullWhen(true, nameof(Handler))]
    public bool Succeeded => Handler is not null;

    internal static ScriptCompilation Failed(IReadOnlyList<ScriptError> errors) => new(null, errors);

    internal static ScriptCompilation Compiled(CompiledHandler handler) => new(handler, []);
}
