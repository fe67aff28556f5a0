namespace Workq.Worker.Settling;

/// <summary>What becomes of a delivery once its run ended (<see cref="Settlement.Decide"/>).</summary>
public enum SettleVerdict
{
    /// <summary>Done with: acked. It completed, or failed with no retry policy to run it again.</summary>
    Ack,

    /// <summary>
    /// Runs again: unkeyed, as a copy published to its queue (through a delay queue for a backoff) before the
    /// delivery is acked; in a lane, in place, so that its key's later events wait for it.
    /// </summary>
    RunAgain,

    /// <summary>Published to the dead letters with its reason, then acked.</summary>
    DeadLetter,

    /// <summary>
    /// Not settled here: unkeyed, the delivery is given back to its queue (the broker counts it as an attempt); in a
    /// lane, the lanes' channel is closed and every unacked event goes back, in order.
    /// </summary>
    GiveBack,
}
