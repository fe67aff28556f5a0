using System.Text;

namespace Workq.Shared.Storage;

/// <summary>
/// Where a page of a newest-first list (dead letters, batches) starts: after the item at this time and id.
/// </summary>
public sealed record PageCursor(DateTimeOffset At, Guid Id)
{
    public string Encode() => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{At.UtcTicks}.{Id:N}"))
        .TrimEnd('=')
        .Replace('+', '-')
        .Replace('/', '_');

    public static PageCursor? TryDecode(string value)
    {
        try
        {
            var padded = value.Replace('-', '+').Replace('_', '/');
            var text = Encoding.ASCII
                .GetString(Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4)));
            var parts = text.Split('.');
            return parts.Length == 2 && long.TryParse(
                parts[0],
                System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture,
                out var ticks)
                   && ticks <= DateTimeOffset.MaxValue.UtcTicks && Guid.TryParseExact(parts[1], "N", out var id)
                ? new PageCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
