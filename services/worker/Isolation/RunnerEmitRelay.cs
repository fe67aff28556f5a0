using Workq.Shared.Handlers.Isolation;
using Workq.Shared.Messaging;

namespace Workq.Worker.Isolation;

/// <summary>
/// A runner's Emit frames. The run id is the runner's only handle: an emit is published for that run's event, through
/// its emitter (in that run's canvas), or refused; the reply frame says which, with the reason the handler sees.
/// </summary>
public sealed class RunnerEmitRelay(FrameOutput output)
{
    /// <summary>Publishes the emit for <paramref name="run"/> (null: the run has finished) and replies.</summary>
    public async Task RelayAsync(EmitFrame emit, RunnerRuns.Held? run)
    {
        var reply = run is null
            ? EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitRefused,
                "Emit refused: the run has finished; await every Emit before the handler returns.")
            : await EmitAsync(emit, run);
        try
        {
            reply.Write(output);
        }
        catch (IOException)
        {
            // The runner is gone.
        }
    }

    private static async Task<EmitReplyFrame> EmitAsync(EmitFrame emit, RunnerRuns.Held run)
    {
        try
        {
            var id = await run.Run.Emitter.EmitAsync(emit.Worker, emit.Json, emit.When, run.Stopping);
            return EmitReplyFrame.Emitted(emit.RunId, emit.Number, id);
        }
        catch (ArgumentException e)
        {
            return EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitInvalidArgument, e.Message);
        }
        catch (QueueFullException e)
        {
            return EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitQueueFull, e.Message);
        }
        catch (Exception e)
        {
            return EmitReplyFrame.Refused(emit.RunId, emit.Number, RunnerProtocol.EmitRefused,
                e is InvalidOperationException ? e.Message : $"{e.GetType().Name}: {e.Message}");
        }
    }
}
