namespace Workq.Client;

/// <summary>
/// An emit's priority within its worker (API.md "Priorities"): a waiting <c>High</c> event starts before any waiting
/// <c>Normal</c> one, and <c>Normal</c> before <c>Low</c>.
/// </summary>
public enum EmitPriority
{
    Normal,
    High,
    Low,
}
