namespace Workq.Emitter.Emitting;

public readonly record struct BatchParse(List<BatchItem>? Items, string? Error, bool EventTooLarge = false)
{
    public static BatchParse Invalid(string error) => new(null, error);
}
