using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>
/// How every component reads its <c>WORKQ_*</c> variables: under their name or the old name it replaced
/// (<see cref="RenamedSetting"/>), and an error names the variable that was set.
/// </summary>
internal static class Setting
{
    public static string? Text(IConfiguration config, string key) =>
        RenamedSetting.Read(config, key).Value;

    public static int Int(IConfiguration config, string key, int fallback) =>
        RenamedSetting.Read(config, key) is (var name, { } raw)
            ? int.TryParse(raw, out var value) && value > 0
                ? value
                : throw new InvalidOperationException($"{name} must be a positive whole number, not '{raw}'.")
            : fallback;

    public static double Double(IConfiguration config, string key, double fallback, string unit) =>
        RenamedSetting.Read(config, key) is (var name, { } raw)
            ? double.TryParse(raw, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new InvalidOperationException($"{name} must be a positive number of {unit}, not '{raw}'.")
            : fallback;

    public static TimeSpan Seconds(IConfiguration config, string key, TimeSpan fallback) =>
        TimeSpan.FromSeconds(Double(config, key, fallback.TotalSeconds, "seconds"));

    public static TimeSpan Hours(IConfiguration config, string key, TimeSpan fallback) =>
        TimeSpan.FromHours(Int(config, key, (int)fallback.TotalHours));

    public static TimeSpan Days(IConfiguration config, string key, TimeSpan fallback) =>
        TimeSpan.FromDays(Int(config, key, (int)fallback.TotalDays));
}
