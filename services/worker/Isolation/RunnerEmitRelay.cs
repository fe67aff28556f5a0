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
    public async Task RelayAsync(EmitFrame emit, RunnerRuns.Held? run) =>
        Reply(run is null ? Finished(emit.RunId, emit.Number) : await EmitAsync(emit, run));

    /// <summary>Creates the batch for <paramref name="run"/> (null: it has finished) and replies with its id.</summary>
    public async Task RelayAsync(EmitBatchFrame batch, RunnerRuns.Held? run) => Reply(run is null
        ? Finished(batch.RunId, batch.Number)
        : await ReplyAsync(batch.RunId, batch.Number, () => run.Run.Emitter.EmitBatchAsync(batch.Events,
            batch.OnComplete, batch.OnSuccess, batch.Step, run.Stopping)));

    /// <summary>Loads or keeps the durable state of <paramref name="run"/>'s event, and replies.</summary>
    public async Task RelayAsync(StepFrame step, RunnerRuns.Held? run)
    {
        StepReplyFrame reply;
        try
        {
            if (run is null) reply = new StepReplyFrame(step.RunId, step.Number, null, null, "the run has finished");
            else if (!step.Save)
                reply = new StepReplyFrame(step.RunId, step.Number,
                    await run.Run.Emitter.LoadStepsAsync(run.Stopping), null, null);
            else
                reply = new StepReplyFrame(step.RunId, step.Number, null,
                    await run.Run.Emitter.SaveStepAsync(step.Key!, step.Json, step.Signal, run.Stopping), null);
        }
        catch (Exception e)
        {
            reply = new StepReplyFrame(step.RunId, step.Number, null, null,
                e is InvalidOperationException or ArgumentException ? e.Message : $"{e.GetType().Name}: {e.Message}");
        }
        Write(reply.Write);
    }

    /// <summary>Reads a page of the batch <paramref name="run"/> is a callback of, and replies with it.</summary>
    public async Task RelayAsync(BatchResultsFrame request, RunnerRuns.Held? run)
    {
        BatchResultsReplyFrame reply;
        try
        {
            reply = run is null
                ? new BatchResultsReplyFrame(request.RunId, request.Number, null, "the run has finished")
                : new BatchResultsReplyFrame(request.RunId, request.Number,
                    await run.Run.Emitter.BatchResultsAsync(request.After, run.Stopping), null);
        }
        catch (Exception e)
        {
            reply = new BatchResultsReplyFrame(request.RunId, request.Number, null,
                e is InvalidOperationException ? e.Message : $"{e.GetType().Name}: {e.Message}");
        }
        Write(reply.Write);
    }

    private void Reply(EmitReplyFrame reply) => Write(reply.Write);

    private void Write(Action<FrameOutput> reply)
    {
        try
        {
            reply(output);
        }
        catch (IOException)
        {
            // The runner is gone.
        }
    }

    private static EmitReplyFrame Finished(long runId, int number) => EmitReplyFrame.Refused(runId, number,
        RunnerProtocol.EmitRefused, "Emit refused: the run has finished; await every Emit before the handler returns.");

    private static Task<EmitReplyFrame> EmitAsync(EmitFrame emit, RunnerRuns.Held run) => ReplyAsync(emit.RunId,
        emit.Number, () => run.Run.Emitter.EmitAsync(emit.Worker, emit.Json, emit.Options, run.Stopping));

    private static async Task<EmitReplyFrame> ReplyAsync(long runId, int number, Func<Task<Guid>> emit)
    {
        try
        {
            return EmitReplyFrame.Emitted(runId, number, await emit());
        }
        catch (ArgumentException e)
        {
            return EmitReplyFrame.Refused(runId, number, RunnerProtocol.EmitInvalidArgument, e.Message);
        }
        catch (QueueFullException e)
        {
            return EmitReplyFrame.Refused(runId, number, RunnerProtocol.EmitQueueFull, e.Message);
        }
        catch (Exception e)
        {
            return EmitReplyFrame.Refused(runId, number, RunnerProtocol.EmitRefused,
                e is InvalidOperationException ? e.Message : $"{e.GetType().Name}: {e.Message}");
        }
    }
}
