namespace Workq.Shared.Handlers.Scripting;

/// <summary>A problem in handler code, at a 1-based position in the user's code.</summary>
public sealed record ScriptError(int Line, int Column, string Message);
