namespace Workq.Shared.Storage;

/// <summary>
/// A debounced run's key, its mode (trailing or leading) and how many emits it absorbed (API.md "Debounce").
/// </summary>
public sealed record EventDebounce(string Key, string Mode, int Absorbed);
