namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// The messages between a worker instance (the supervisor) and one runner process, over the runner's stdin and stdout
/// (<see cref="FrameOutput"/>); each is a record of its own file, named after the frame. The supervisor
/// holds every credential and decides everything; a runner only loads compiled handlers, runs them, and asks the
/// supervisor to publish what they emit and to make their Http requests, naming nothing but its own run ids.
/// Supervisor to runner: <see cref="InitFrame"/>, <see cref="LoadFrame"/>, <see cref="UnloadFrame"/>, <see
/// cref="RunFrame"/>, <see cref="EmitReplyFrame"/>, <see cref="HttpResponseFrame"/>, <see cref="HttpBodyFrame"/>, <see
/// cref="HttpEndFrame"/>. Runner to supervisor: <see cref="ReadyFrame"/>, <see cref="EmitFrame"/>, <see
/// cref="DoneFrame"/>, <see cref="HttpRequestFrame"/>, <see cref="HttpCancelFrame"/>.
/// </summary>
public static class RunnerProtocol
{
    /// <summary>
    /// Failure kinds in <see cref="EmitReplyFrame"/>: thrown in the handler as these exception types.
    /// </summary>
    public const byte EmitInvalidArgument = 1;
    public const byte EmitRefused = 2;
    public const byte EmitQueueFull = 3;

    /// <summary>What the runner writes on stderr when it ends itself because the supervisor went away.</summary>
    public const string OrphanedExit = "the worker service closed the channel";

    /// <summary>
    /// The start of a runner's end when what it sent is not the protocol: the crash cause says what it sent.
    /// </summary>
    public const string BrokeProtocol = "runner broke the protocol";
}
