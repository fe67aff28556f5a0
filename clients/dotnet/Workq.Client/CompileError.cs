namespace Workq.Client;

/// <summary>A compile or forbidden-API error of a deploy, 1-based like a compiler's.</summary>
public sealed record CompileError(int Line, int Column, string Message);
