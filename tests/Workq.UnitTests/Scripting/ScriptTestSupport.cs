using System.Collections.Concurrent;
using System.Text;
using Workq.Compiler;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;
using Workq.Shared.Scripting;

namespace Workq.UnitTests.Scripting;

internal sealed class FakeEmitter : IHandlerEmitter
{
    public ConcurrentQueue<(string Worker, string Json, Guid Id)> Emits { get; } = new();

    public int MaxEventBytes { get; init; } = 262_144;

    public int MaxStepBytes { get; init; } = StepLimits.DefaultMaxStepBytes;

    /// <summary>The event's kept steps, as the worker's store keeps them (the first write of a key wins).</summary>
    public ConcurrentDictionary<string, byte[]> Steps { get; } = new();

    /// <summary>Signals sent ahead of their wait.</summary>
    public ConcurrentDictionary<string, byte[]> Signals { get; } = new();

    public int Loads;

    public List<EmitOptions> Options { get; } = [];

    public Task<StepState> LoadStepsAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Loads);
        return Task.FromResult(new StepState(new Dictionary<string, byte[]>(Steps),
            new Dictionary<string, byte[]>(Signals)));
    }

    public Task<ReadOnlyMemory<byte>?> SaveStepAsync(
        string key,
        ReadOnlyMemory<byte> json,
        string? signal,
        CancellationToken cancellationToken)
    {
        if (signal is not null) Signals.TryRemove(signal, out _);
        var kept = Steps.GetOrAdd(key, json.ToArray());
        return Task.FromResult(kept.AsSpan().SequenceEqual(json.Span) ? null : (ReadOnlyMemory<byte>?)kept);
    }

    public async Task<Guid> EmitAsync(
        string worker,
        ReadOnlyMemory<byte> eventJson,
        EmitOptions when,
        CancellationToken cancellationToken)
    {
        // Yield so concurrent emits really interleave.
        await Task.Yield();
        lock (Options) Options.Add(when);
        var id = Guid.NewGuid();
        Emits.Enqueue((worker, Encoding.UTF8.GetString(eventJson.Span), id));
        return id;
    }

    public ConcurrentQueue<(IReadOnlyList<BatchEmitItem> Events, BatchEmitItem? OnComplete, BatchEmitItem? OnSuccess)>
        Batches
    { get; } = new();

    public Task<Guid> EmitBatchAsync(
        IReadOnlyList<BatchEmitItem> events,
        BatchEmitItem? onComplete,
        BatchEmitItem? onSuccess,
        string? step,
        CancellationToken cancellationToken)
    {
        Batches.Enqueue((events, onComplete, onSuccess));
        return Task.FromResult(Guid.NewGuid());
    }

    /// <summary>What a callback's Batch.Results() reads, served <see cref="PageSize"/> at a time.</summary>
    public List<BatchResult> Results { get; } = [];

    public int PageSize { get; init; } = 2;

    public List<long> PagesAsked { get; } = [];

    public Task<BatchResultsPage> BatchResultsAsync(long after, CancellationToken cancellationToken)
    {
        PagesAsked.Add(after);
        var page = Results.Skip((int)after).Take(PageSize).ToList();
        return Task.FromResult(new BatchResultsPage(page, page.Count < PageSize ? -1 : after + page.Count));
    }
}

internal static class Scripts
{
    // One compiler for all tests, as in the services: it is the thing under test for thread-safety too.
    public static ScriptCompiler Compiler { get; } = new();

    public static readonly HttpClient Http = new();

    public static HandlerMeta Meta(int attempt = 1, int depth = 0) =>
        new(
            Guid.Parse("6f1f8a59-6f43-4a8a-9d8a-0d6f7c1b2a01"),
            "shop",
            "count",
            new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero),
            attempt,
            depth);

    public static HandlerGlobals Globals(
        JsonNode? @event,
        IHandlerEmitter? emitter = null,
        CancellationToken cancellationToken = default) =>
        new(
            @event is null ? default : System.Text.Encoding.UTF8.GetBytes(@event.ToJsonString()),
            Meta(),
            emitter ?? new FakeEmitter(),
            () => Http,
            cancellationToken);

    public static CompiledHandler CompileOrFail(string code)
    {
        var result = Compiler.Compile(code);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Handler;
    }

    public static IReadOnlyList<ScriptError> Errors(string code)
    {
        var result = Compiler.Compile(code);
        result.Handler?.Dispose();
        Assert.False(result.Succeeded, $"expected the code to be refused:\n{code}");
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }
}
