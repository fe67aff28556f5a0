namespace Workq.Shared.Messaging;

/// <summary>The rule an idempotency key follows, for the emit API and handlers alike.</summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 256;

    public static string? Problem(string? key) => key switch
    {
        null => null,
        { Length: 0 } => "the idempotency key is empty.",
        { Length: > MaxLength } => $"the idempotency key is longer than {MaxLength} characters.",
        _ => null,
    };
}
