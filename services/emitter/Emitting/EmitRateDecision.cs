namespace Workq.Emitter.Emitting;

/// <summary>
/// Whether a canvas may emit now: <see cref="Refusal.None"/>, over its rate (retry after a while), or a batch larger
/// than its burst.
/// </summary>
public readonly record struct EmitRateDecision(EmitRateDecision.Refusal Refused, TimeSpan RetryAfter = default)
{
    public enum Refusal { None, OverRate, LargerThanBurst }
}
