namespace Workq.Tests.Storage;

/// <summary>
/// The store under test needs a server that only this variable names (no such server can be installed everywhere).
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresVariableAttribute(string variable, string reason) : Attribute
{
    public string Variable => variable;
    public string Reason => reason;
}
