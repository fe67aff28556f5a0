namespace Workq.Shared.Handlers.Messaging;

/// <summary>Why a durable run ended before its handler returned: a <c>Sleep</c> or a <c>WaitFor</c>.</summary>
public enum SuspensionKind : byte { Sleep = 1, Wait = 2 }
