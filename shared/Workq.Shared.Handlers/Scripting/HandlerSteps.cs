using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// One run's durable features (API.md "Durable handlers"): <c>Step</c>, <c>Sleep</c> and <c>WaitFor</c>. What earlier
/// runs of the event kept is read once, at the first of them in the run; each finished step is kept before its result
/// is returned. Each is keyed by its name and its occurrence in the run ("charge#2": the second <c>Step("charge")</c>),
/// so every run of the event meets the same keys in the same places. Created only by a run that uses one: a handler
/// that does not pays nothing.
/// </summary>
public sealed class HandlerSteps(IHandlerEmitter trusted, CancellationToken cancellationToken)
{
    // The step an Emit is made in, so it gets an id of that step's (HandlerGlobals.Emit); null outside steps.
    private static readonly AsyncLocal<string?> CurrentStep = new();

    private readonly Lock gate = new();
    private readonly Dictionary<string, int> occurrences = [];
    private readonly List<StepTrace> traces = [];
    private Task<StepState>? state;
    private Suspension? suspension;

    /// <summary>The key of the step the caller runs in; null outside steps.</summary>
    public static string? Current => CurrentStep.Value;

    /// <summary>Where the run suspended; null if it did not.</summary>
    public Suspension? Suspended
    {
        get
        {
            lock (gate) return suspension;
        }
    }

    /// <summary>The run's steps, sleeps and waits, in the order they ended.</summary>
    public IReadOnlyList<StepTrace> Traces
    {
        get
        {
            lock (gate) return [.. traces];
        }
    }

    public async Task<T> StepAsync<T>(string name, Func<Task<T>> body, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(body);
        var (key, label) = Place("step", name, "Step");
        if (CurrentStep.Value is { } outer)
            throw new InvalidOperationException($"Step '{name}' refused: steps do not nest (it is inside {outer}).");
        var clock = Stopwatch.StartNew();
        var kept = await LoadAsync();
        if (kept.Steps.TryGetValue(key, out var stored))
        {
            Trace(label, replayed: true, clock.Elapsed);
            return Read<T>(stored, options);
        }
        // Set for the body's flow only: the caller's flow gets its own value back when this method returns.
        CurrentStep.Value = key;
        var value = await body().ConfigureAwait(false);
        CurrentStep.Value = null;
        var json = Write(value, options, name);
        var won = await trusted.SaveStepAsync(key, json, signal: null, cancellationToken).ConfigureAwait(false);
        Trace(label, replayed: false, clock.Elapsed);
        // Another run of the event kept this step first: every run goes on with the same result.
        return won is { } first ? Read<T>(first.ToArray(), options) : value;
    }

    public Task SleepUntilAsync(DateTimeOffset until)
    {
        var (key, label) = Place("sleep", "", "Sleep");
        return SuspendUnlessPastAsync(SuspensionKind.Sleep, key, label, until, waitName: null);
    }

    public async Task<JsonNode?> WaitForAsync(string name, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero || timeout > StepLimits.MaxAhead)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                $"WaitFor refused: the time-out must be more than 0 and at most {StepLimits.MaxAhead.TotalDays:0} " +
                "days.");
        var (key, label) = Place("wait", name, "WaitFor");
        var clock = Stopwatch.StartNew();
        var kept = await LoadAsync();
        if (kept.Steps.TryGetValue(key, out var value))
        {
            Trace(label, replayed: true, clock.Elapsed);
            return Parse(value);
        }
        if (kept.Signals.TryGetValue(name, out var early))
        {
            // Sent before the wait began: this wait takes it.
            var won = await trusted.SaveStepAsync(key, early, name, cancellationToken).ConfigureAwait(false);
            Trace(label, replayed: false, clock.Elapsed);
            return Parse(won is { } first ? first.ToArray() : early);
        }
        if (kept.Steps.TryGetValue(DeadlineKey(key), out var deadline))
        {
            var until = ReadTime(deadline);
            if (until <= DateTimeOffset.UtcNow)
            {
                // Timed out: kept as null, unless a signal was kept first.
                var won = await trusted.SaveStepAsync(key, "null"u8.ToArray(), null, cancellationToken)
                    .ConfigureAwait(false);
                Trace(label, replayed: false, clock.Elapsed);
                return won is { } first ? Parse(first.ToArray()) : null;
            }
            throw Suspend(new Suspension(SuspensionKind.Wait, key, until, name), label);
        }
        throw Suspend(new Suspension(SuspensionKind.Wait, key, DateTimeOffset.UtcNow + timeout, name), label);
    }

    /// <summary>The key under which the trusted side keeps a wait's time-out, beside the wait's own.</summary>
    public static string DeadlineKey(string waitKey) => "deadline:" + waitKey;

    /// <summary>A sleep's end or a wait's time-out as it is kept: a JSON string, round-trip format.</summary>
    public static byte[] TimeJson(DateTimeOffset at) =>
        Encoding.UTF8.GetBytes("\"" + at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) + "\"");

    public static DateTimeOffset ReadTime(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<DateTimeOffset>(json);

    private async Task SuspendUnlessPastAsync(
        SuspensionKind kind,
        string key,
        string label,
        DateTimeOffset until,
        string? waitName)
    {
        var clock = Stopwatch.StartNew();
        var kept = await LoadAsync();
        // A sleep met again keeps the end its first run chose: never early, never pushed back.
        if (kept.Steps.TryGetValue(key, out var stored)) until = ReadTime(stored);
        if (until <= DateTimeOffset.UtcNow)
        {
            Trace(label, replayed: stored is not null, clock.Elapsed);
            return;
        }
        if (until - DateTimeOffset.UtcNow > StepLimits.MaxAhead)
            throw new ArgumentOutOfRangeException(nameof(until), until,
                $"Sleep refused: at most {StepLimits.MaxAhead.TotalDays:0} days ahead.");
        throw Suspend(new Suspension(kind, key, until, waitName), label);
    }

    private HandlerSuspendedException Suspend(Suspension at, string label)
    {
        lock (gate)
        {
            suspension ??= at;
            traces.Add(new StepTrace(label, false, TimeSpan.Zero));
            return new HandlerSuspendedException(suspension.Value);
        }
    }

    private (string Key, string Label) Place(string kind, string name, string what)
    {
        if (kind != "sleep" && StepLimits.NameProblem(name) is { } problem)
            throw new ArgumentException($"{what} refused: {problem}.", nameof(name));
        if (kind != "step" && CurrentStep.Value is { } step)
            throw new InvalidOperationException($"{what} refused: it cannot be inside a step ({step}).");
        var counted = kind == "sleep" ? "sleep" : $"{kind}:{name}";
        int occurrence;
        lock (gate)
        {
            if (suspension is { } suspended) throw new HandlerSuspendedException(suspended);
            occurrences[counted] = occurrence = occurrences.GetValueOrDefault(counted) + 1;
        }
        var key = string.Create(CultureInfo.InvariantCulture, $"{counted}#{occurrence}");
        var label = kind switch
        {
            "step" => occurrence == 1 ? name : $"{name}#{occurrence}",
            "sleep" => $"Sleep#{occurrence}",
            _ => $"WaitFor({name})#{occurrence}",
        };
        return (key, label);
    }

    private Task<StepState> LoadAsync()
    {
        lock (gate) return state ??= trusted.LoadStepsAsync(cancellationToken);
    }

    private void Trace(string label, bool replayed, TimeSpan duration)
    {
        lock (gate) traces.Add(new StepTrace(label, replayed, duration));
    }

    private byte[] Write<T>(T value, JsonSerializerOptions options, string name)
    {
        try
        {
            return EventJson.Serialize(value, options, trusted.MaxStepBytes);
        }
        catch (ArgumentException)
        {
            throw new InvalidOperationException(
                $"Step '{name}' failed: its result is over {trusted.MaxStepBytes} bytes of JSON " +
                "(WORKQ_MAX_STEP_BYTES); nothing was kept.");
        }
    }

    private static T Read<T>(byte[] json, JsonSerializerOptions options) =>
        JsonSerializer.Deserialize<T>(json, options)!;

    private static JsonNode? Parse(ReadOnlySpan<byte> json) => JsonNode.Parse(json);
}
