namespace Workq.Client;

/// <summary>
/// A debounced run's key, its mode (<c>trailing</c> or <c>leading</c>) and how many emits it absorbed, itself
/// included (API.md "Debounce"); in a trace, as it was published.
/// </summary>
public sealed record EventDebounce(string Key, string? Mode, int Absorbed);
