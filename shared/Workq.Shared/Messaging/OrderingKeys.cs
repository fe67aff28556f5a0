using System.Text;

namespace Workq.Shared.Messaging;

/// <summary>The rule for an emit's ordering key and the lane it maps to (API.md "Ordering keys").</summary>
public static class OrderingKeys
{
    public const int MaxLength = 128;
    /// <summary>
    /// The lanes a worker gets with its first keyed event; kept per worker (workers.ordering_lanes), so a key's lane
    /// never moves.
    /// </summary>
    public const int Lanes = 8;
    public const string Rule = "1 to 128 characters, no control characters or lone surrogates";

    /// <summary>
    /// Null when <paramref name="key"/> is a valid ordering key (or none); else why not, naming the key.
    /// </summary>
    public static string? Problem(string? key)
    {
        if (key is null) return null;
        if (key.Length is 0 or > MaxLength) return $"the ordering key must be {Rule}; it has {key.Length}.";
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (char.IsHighSurrogate(c) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1])) i++;
            else if (char.IsControl(c)
                || char.IsSurrogate(c)) return $"the ordering key must be {Rule}; it has U+{(int)c:X4}.";
        }
        return null;
    }

    /// <summary>
    /// FNV-1a of the key's UTF-8 bytes: stable across processes and versions, unlike string.GetHashCode.
    /// </summary>
    public static int Lane(string key, int lanes)
    {
        Span<byte> buffer = stackalloc byte[Encoding.UTF8.GetMaxByteCount(MaxLength)];
        var bytes = key.Length <= MaxLength
            ? buffer[..Encoding.UTF8.GetBytes(key, buffer)]
            : Encoding.UTF8.GetBytes(key);
        var hash = 2166136261u;
        foreach (var b in bytes) hash = (hash ^ b) * 16777619u;
        return (int)(hash % (uint)lanes);
    }

    /// <summary>
    /// The lane's binding on the canvas exchange: worker names hold no dots, so it never matches another worker's
    /// binding.
    /// </summary>
    public static string RoutingKey(string worker, int lane) => $"{worker}.lane{lane}";
}
