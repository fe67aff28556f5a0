using Workq.Shared.Handlers.Scripting;

namespace Workq.Compiler;

/// <summary>
/// The outcome of <see cref="ScriptCompiler.Emit"/>: the compiled assembly's bytes, or the errors that refused the
/// code.
/// </summary>
public sealed record HandlerAssembly(byte[]? Assembly, IReadOnlyList<ScriptError> Errors);
