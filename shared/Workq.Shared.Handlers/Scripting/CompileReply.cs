namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// A compiler process's answer: <see cref="Ready"/> once, when it has warmed up, then one reply per
/// request with the compiled assembly, or the errors that refused the code.
/// </summary>
public sealed record CompileReply(bool Ready, IReadOnlyList<ScriptError> Errors, byte[]? Assembly = null)
{
    public static readonly CompileReply Warm = new(true, []);
}
