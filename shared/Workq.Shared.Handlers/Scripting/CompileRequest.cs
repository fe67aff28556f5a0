namespace Workq.Shared.Handlers.Scripting;

/// <summary>A compile asked of a compiler process: the code, and how long control will wait for it.</summary>
public sealed record CompileRequest(string Code, int TimeoutMilliseconds);
