namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// An event's priority within its worker (API.md "Priorities"). <c>Normal</c> is the default, and the value a
/// <c>default</c> takes.
/// </summary>
public enum Priority : byte
{
    Normal = 0,
    High = 1,
    Low = 2,
}
