using System.Diagnostics.CodeAnalysis;

namespace Workq.Shared.Scripting;

/// <summary>A problem in handler code, at a 1-based position in the user's code.</summary>
public sealed record ScriptError(int Line, int Column, string Message);

/// <summary>The outcome of <see cref="ScriptCompiler.Compile"/>: a handler, or the errors that refused the code.</summary>
public sealed record ScriptCompilation(CompiledHandler? Handler, IReadOnlyList<ScriptError> Errors)
{
    [MemberNotNullWhen(true, nameof(Handler))]
    public bool Succeeded => Handler is not null;

    internal static ScriptCompilation Failed(IReadOnlyList<ScriptError> errors) => new(null, errors);

    internal static ScriptCompilation Compiled(CompiledHandler handler) => new(handler, []);
}

/// <summary>The outcome of <see cref="ScriptCompiler.Emit"/>: the compiled assembly's bytes, or the errors that refused the code.</summary>
public sealed record HandlerAssembly(byte[]? Assembly, IReadOnlyList<ScriptError> Errors);
