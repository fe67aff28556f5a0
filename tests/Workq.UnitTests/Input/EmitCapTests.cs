using System.Text;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.UnitTests.Scripting;
using Workq.Worker.Emitting;

namespace Workq.UnitTests.Input;

/// <summary>
/// A handler's Emit is held to WORKQ_MAX_EVENT_BYTES like the emit API: in the handler, and again in the worker
/// service.
/// </summary>
public sealed class EmitCapTests
{
    private const int Limit = 1_000;

    [Fact]
    public async Task An_emit_at_the_limit_is_sent_and_one_byte_over_is_refused_naming_the_limit()
    {
        var emitter = new FakeEmitter { MaxEventBytes = Limit };
        var globals = Scripts.Globals(null, emitter);
        // A JSON string of n characters is n + 2 bytes.
        await globals.Emit("w", new string('x', Limit - 2));
        Assert.Equal(Limit, Encoding.UTF8.GetByteCount(Assert.Single(emitter.Emits).Json));

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => globals.Emit("w", new string('x', Limit - 1)));
        Assert.Contains("WORKQ_MAX_EVENT_BYTES", refused.Message);
        Assert.Contains($"{Limit} bytes", refused.Message);
        Assert.Single(emitter.Emits);
    }

    [Fact]
    public async Task A_huge_value_is_refused_before_its_json_is_built()
    {
        var huge = new string('x', 40 * 1024 * 1024);
        var globals = Scripts.Globals(null, new FakeEmitter { MaxEventBytes = 256 * 1024 });
        var before = GC.GetAllocatedBytesForCurrentThread();
        await Assert.ThrowsAsync<ArgumentException>(() => globals.Emit("w", new { huge }));
        // The 40 MB string exists already; its JSON (40 MB more, and copies of it) is never made.
        Assert.True(
            GC.GetAllocatedBytesForCurrentThread() - before < 4 * 1024 * 1024,
            $"{GC.GetAllocatedBytesForCurrentThread() - before} bytes allocated");
    }

    [Fact]
    public async Task Objects_and_arrays_past_the_limit_are_refused_too()
    {
        var globals = Scripts.Globals(null, new FakeEmitter { MaxEventBytes = Limit });
        await Assert.ThrowsAsync<ArgumentException>(() => globals.Emit("w", Enumerable.Range(0, 1_000).ToArray()));
        await Assert.ThrowsAsync<ArgumentException>(
            () => globals.Emit("w", JsonNode.Parse("{\"a\":\"" + new string('y', Limit) + "\"}")));
    }

    [Fact]
    public async Task The_worker_service_refuses_an_oversized_emit_whoever_serialized_it()
    {
        // A runner holds hostile code: its JSON is checked again, before anything is published (nothing is, so none is
        // given).
        var parent = new EventEnvelope(Guid.CreateVersion7(), "shop", "count", DateTimeOffset.UtcNow, 0, null);
        var emitter = new HandlerEmitter(
            null!,
            parent,
            attempt: 1,
            new EmitLimits
            {
                MaxEmitDepth = 10,
                MaxEmitsPerEvent = 10,
                MaxScheduledPerWorker = 10,
                MaxEventBytes = Limit
            });
        var refused = await Assert.ThrowsAsync<ArgumentException>(
            () => emitter.EmitAsync("w", new byte[Limit + 1], new EmitOptions(null, null), CancellationToken.None));
        Assert.Contains("WORKQ_MAX_EVENT_BYTES", refused.Message);
        Assert.Contains($"{Limit + 1} bytes", refused.Message);
        Assert.Empty(emitter.Emitted);
    }
}
