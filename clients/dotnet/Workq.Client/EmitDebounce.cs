namespace Workq.Client;

/// <summary>
/// An emit's debounce (API.md "Debounce"): emits to the same worker with the same <c>Key</c> within <c>Period</c>
/// collapse into one run, whose id each answers. Trailing (the default) runs the last a period after the last emit, at
/// most <c>Max</c> (default ten periods) after the first; <c>Leading</c> runs the first at once and drops the rest of
/// the period.
/// </summary>
public sealed record EmitDebounce(string Key, TimeSpan Period, bool Leading = false, TimeSpan? Max = null);
