using System.Globalization;
using Quartz;

namespace Workq.Shared.Scheduling;

/// <summary>
/// A standard five-field cron schedule (minute hour day-of-month month day-of-week), in UTC.
/// Each field is validated here, so errors name the field and the rule, and the schedule is then
/// handed to Quartz's <see cref="CronExpression"/> in its own form (seconds first, Sunday = 1) to
/// compute fire times. When both day fields are restricted a day matching either runs, as POSIX cron
/// says; Quartz unions two restricted day fields, so that is written through as is.
/// </summary>
public sealed class CronSchedule
{
    public const int MaxLength = 200;

    private static readonly string[] MonthNames
        = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    private static readonly int[] DaysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private static readonly Field[] Fields =
    [
        new("minute", 0, 59, null),
        new("hour", 0, 23, null),
        new("day-of-month", 1, 31, null),
        new("month", 1, 12, MonthNames),
        new("day-of-week", 0, 7, DayNames),
    ];

    /// <summary>
    /// Growing look-back windows for <see cref="LatestDue"/>: a long outage costs a few steps, not one per missed tick.
    /// </summary>
    private static readonly TimeSpan[] LookBack =
        [TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(32), TimeSpan.FromDays(
            367), TimeSpan.FromDays(8 * 366)];

    private readonly CronExpression quartz;

    private CronSchedule(string expression, string quartzExpression)
    {
        Expression = expression;
        QuartzExpression = quartzExpression;
        quartz = new CronExpression(quartzExpression).WithTimeZone(TimeZoneInfo.Utc);
    }

    /// <summary>The schedule as written (trimmed).</summary>
    public string Expression { get; }

    /// <summary>The same schedule in Quartz's six-field form.</summary>
    public string QuartzExpression { get; }

    public override string ToString() => Expression;

    public static bool TryParse(string? text, out CronSchedule? schedule, out string error)
    {
        schedule = null;
        error = "";
        var expression = text?.Trim() ?? "";
        if (expression.Length == 0)
        {
            error = "The schedule is empty: write five fields (minute hour day-of-month month day-of-week), e.g. " +
                "\"*/5 * * * *\".";
            return false;
        }
        if (expression.Length > MaxLength)
        {
            error = $"The schedule is longer than {MaxLength} characters.";
            return false;
        }
        var fiveFields = expression;
        if (expression.StartsWith('@'))
        {
            if (!Macros.TryGetValue(expression, out var expanded))
            {
                error = $"Unknown macro '{expression}': use @yearly, @annually, @monthly, @weekly, @daily, @midnight " +
                    $"or @hourly, or five fields.";
                return false;
            }
            fiveFields = expanded;
        }

        var parts = fiveFields.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5)
        {
            error = $"A schedule has exactly five fields (minute hour day-of-month month day-of-week), in UTC, e.g. " +
                $"\"*/5 * * * *\"; " +
                    $"'{expression}' has {parts.Length}. Seconds and years are not supported.";
            return false;
        }

        var sets = new bool[5][];
        for (var i = 0; i < 5; i++)
        {
            if (!TryParseField(Fields[i], parts[i], out sets[i], out error)) return false;
        }
        // Day-of-week 7 is another name for Sunday (0).
        if (sets[4][7]) sets[4][0] = true;
        var dayOfWeek = sets[4][..7];

        var domRestricted = sets[2].Skip(1).Any(on => !on);
        var dowRestricted = dayOfWeek.Any(on => !on);
        if (!dowRestricted && !FiresInSomeMonth(sets[2], sets[3]))
        {
            error = $"The schedule '{expression}' never fires: none of its months has any of its days of the month.";
            return false;
        }

        var quartzExpression = string.Join(' ',
            "0",
            Render(sets[0], 0, 59, v => v),
            Render(sets[1], 0, 23, v => v),
            domRestricted ? Render(sets[2], 1, 31, v => v) : dowRestricted ? "?" : "*",
            Render(sets[3], 1, 12, v => v),
            // Quartz numbers Sunday 1 through Saturday 7.
            dowRestricted ? Render(dayOfWeek, 0, 6, v => v + 1) : "?");
        schedule = new CronSchedule(expression, quartzExpression);
        return true;
    }

    /// <summary>The first tick strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset after) =>
        quartz.GetNextValidTimeAfter(after)
        ?? throw new InvalidOperationException($"The schedule '{Expression}' has no tick after {after:O}.");

    /// <summary>
    /// The latest tick at or after <paramref name="from"/> and at or before <paramref name="now"/>, or null when there
    /// is none.
    /// </summary>
    public DateTimeOffset? LatestDue(DateTimeOffset from, DateTimeOffset now)
    {
        if (from > now) return null;
        var floor = from.AddTicks(-1);
        foreach (var window in LookBack)
        {
            var start = now - window > floor ? now - window : floor;
            if (quartz.GetNextValidTimeAfter(start) is { } found && found <= now)
            {
                while (quartz.GetNextValidTimeAfter(found) is { } next && next <= now) found = next;
                return found;
            }
            if (start == floor) return null;
        }
        // Every valid schedule fires within eight years (29 February included).
        return null;
    }

    private static bool FiresInSomeMonth(bool[] daysOfMonth, bool[] months)
    {
        for (var month = 1; month <= 12; month++)
        {
            if (!months[month]) continue;
            for (var day = 1; day <= DaysInMonth[month - 1]; day++)
                if (daysOfMonth[day]) return true;
        }
        return false;
    }

    /// <summary>
    /// '*' for a whole field, else the values as a list (the day-of-week numbering already converted).
    /// </summary>
    private static string Render(bool[] set, int min, int max, Func<int, int> toQuartz)
    {
        var values = Enumerable.Range(min, max - min + 1).Where(v => set[v]).ToList();
        return values.Count == max - min + 1
            ? "*"
            : string.Join(',', values.Select(v => toQuartz(v).ToString(CultureInfo.InvariantCulture)));
    }

    private static bool TryParseField(Field field, string text, out bool[] set, out string error)
    {
        set = new bool[field.Max + 1];
        error = "";
        foreach (var item in text.Split(','))
        {
            if (!TryParseItem(field, item, set, out error))
            {
                var names = field.Names is null ? "" : $" or names ({string.Join(',', field.Names)})";
                error = $"The {field.Name} field '{text}' is not valid: {error} Use numbers " +
                    $"{field.Min}-{field.Max}{names}, '*', ranges a-b, lists a,b and steps /n.";
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// One list item: '*', a value, a range a-b, each optionally with a step /n; 'a/n' means a through the maximum.
    /// </summary>
    private static bool TryParseItem(Field field, string item, bool[] set, out string error)
    {
        error = "";
        if (item.Length == 0)
        {
            error = "it has an empty list item.";
            return false;
        }
        var slash = item.Split('/');
        if (slash.Length > 2)
        {
            error = $"'{item}' has more than one '/'.";
            return false;
        }
        var step = 1;
        if (slash.Length == 2 && (!int.TryParse(slash[1], NumberStyles.None, CultureInfo.InvariantCulture, out step)
            || step < 1
            || step > field.Max - field.Min + 1))
        {
            error = $"the step in '{item}' must be a whole number from 1 to {field.Max - field.Min + 1}.";
            return false;
        }

        int low, high;
        var range = slash[0];
        if (range == "*")
        {
            (low, high) = (field.Min, field.Max == 7 ? 6 : field.Max);
        }
        else
        {
            var dash = range.Split('-');
            if (dash.Length > 2)
            {
                error = $"'{item}' has more than one '-'.";
                return false;
            }
            if (!TryValue(field, dash[0], out low, out error)) return false;
            if (dash.Length == 2)
            {
                if (!TryValue(field, dash[1], out high, out error)) return false;
                if (high < low)
                {
                    error = $"the range '{range}' runs backwards; write it as two ranges, e.g. " +
                        $"'{dash[0]}-{field.Max},{field.Min}-{dash[1]}'.";
                    return false;
                }
            }
            else
            {
                high = slash.Length == 2 ? field.Max : low;
            }
        }
        for (var v = low; v <= high; v += step) set[v] = true;
        return true;
    }

    private static bool TryValue(Field field, string text, out int value, out string error)
    {
        error = "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            if (value >= field.Min && value <= field.Max) return true;
            error = $"{value} is out of range.";
            return false;
        }
        var index = field.Names is null
            ? -1
            : Array.FindIndex(field.Names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            value = index + field.Min;
            return true;
        }
        error = text.Length == 0 ? "a value is missing." : $"'{text}' is not a {field.Name} value.";
        return false;
    }

    private sealed record Field(string Name, int Min, int Max, string[]? Names);
}
