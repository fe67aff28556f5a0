using Workq.Shared.Handlers.Scripting;

namespace Workq.Control.Compiling;

/// <summary>A compile's outcome; <see cref="Assembly"/> holds the compiled handler when it succeeded.</summary>
public sealed record CompileOutcome(CompileStatus Status, IReadOnlyList<ScriptError> Errors, byte[]? Assembly = null)
{
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Assembly))]
    public bool Succeeded => Status == CompileStatus.Compiled && Errors.Count == 0 && Assembly is not null;

    internal static CompileOutcome Of(CompileStatus status) => new(status, []);
}
