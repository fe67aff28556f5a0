using System.Globalization;
using System.Text.RegularExpressions;

namespace Workq.Shared.Configuration;

/// <summary>
/// A canvas's emit rate (<c>WORKQ_CANVAS_EMIT_RATE</c>): <see cref="Events"/> per <see cref="Period"/>, and at most
/// <see cref="Burst"/> at once (a token bucket that holds <see cref="Burst"/> tokens and refills at the rate).
/// Written <c>500</c> or <c>500/s</c> (per second), <c>600/m</c> (per minute), with an optional <c>,burst=1000</c>;
/// the burst defaults to one period's worth of events.
/// </summary>
public sealed partial record EmitRate(int Events, TimeSpan Period, int Burst)
{
    public const string Format = "N, N/s or N/m, with an optional ',burst=M' (e.g. '500/s,burst=1000')";

    [GeneratedRegex(
        @"^\s*(?<events>\d+)\s*(/\s*(?<unit>[sm])\s*)?(,\s*burst\s*=\s*(?<burst>\d+)\s*)?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Syntax();

    /// <summary>
    /// Null when <paramref name="text"/> is unset or empty (no limit); throws on anything else that is not a rate.
    /// </summary>
    public static EmitRate? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var match = Syntax().Match(text);
        var burst = 0;
        if (!match.Success || !Positive(match.Groups["events"].Value, out var events)
            || (match.Groups["burst"].Success && !Positive(match.Groups["burst"].Value, out burst)))
            throw new InvalidOperationException(
                $"WORKQ_CANVAS_EMIT_RATE must be {Format}, with positive whole numbers, not '{text}'.");
        var period = match.Groups["unit"].Value is "m" or "M" ? TimeSpan.FromMinutes(1) : TimeSpan.FromSeconds(1);
        return new EmitRate(events, period, burst > 0 ? burst : events);
    }

    /// <summary>The rate as it is written, e.g. <c>500/s,burst=1000</c>.</summary>
    public override string ToString() => $"{Events}/{(Period == TimeSpan.FromMinutes(1) ? "m" : "s")},burst={Burst}";

    private static bool Positive(string digits, out int value) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
}
