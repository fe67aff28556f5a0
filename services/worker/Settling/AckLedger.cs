using Workq.Shared.Messaging;
namespace Workq.Worker.Settling;

/// <summary>
/// Decides how a channel's finished deliveries are settled. The channel has one consumer, so its
/// delivery tags are 1, 2, 3...: once every tag up to N is finished, one ack with <c>multiple</c> settles
/// them all (one frame, and one settle command in a quorum queue, instead of N). A multiple ack never
/// covers a tag still running: it is sent only for a contiguous finished prefix. Finished tags behind a
/// running one are acked singly once they fill half the prefetch window (a slow handler must not starve
/// the rest) or when nothing is left running; requeues go out first, before any ack that covers them.
/// Not thread-safe: the settler serializes calls.
/// </summary>
public sealed class AckLedger(int window)
{
    public readonly record struct Settlements(ulong[] Requeue, ulong AckThrough, ulong[] AckSingly);

    private readonly int holdAtMost = Math.Max(1, window / 2);
    private readonly HashSet<ulong> finished = [];
    private readonly HashSet<ulong> settledSingly = [];
    private readonly List<ulong> requeue = [];
    private ulong next = 1;
    private int running;
    // Once the channel was closed or recovered, its tags no longer count from 1 here: ack one by one.
    private bool singly;

    public int Running => running;

    public void Started() => running++;

    /// <summary>
    /// Records a finished delivery; true when the settlements should be sent now rather than a moment later.
    /// </summary>
    public bool Finished(ulong deliveryTag, bool requeueIt)
    {
        running--;
        if (requeueIt) requeue.Add(deliveryTag);
        else finished.Add(deliveryTag);
        return singly || running <= 0 || requeue.Count > 0 || finished.Count >= holdAtMost;
    }

    public void ChannelReset() => singly = true;

    public Settlements Take()
    {
        var requeues = requeue.Count == 0 ? [] : requeue.ToArray();
        requeue.Clear();
        if (singly) return new Settlements(requeues, 0, TakeFinished());
        foreach (var tag in requeues) settledSingly.Add(tag);

        ulong through = 0;
        while (true)
        {
            if (finished.Remove(next)) through = next;
            else if (!settledSingly.Remove(next)) break;
            next++;
        }

        if (finished.Count >= holdAtMost || (running <= 0 && finished.Count > 0))
        {
            var singles = TakeFinished();
            foreach (var tag in singles) settledSingly.Add(tag);
            return new Settlements(requeues, through, singles);
        }
        return new Settlements(requeues, through, []);
    }

    private ulong[] TakeFinished()
    {
        if (finished.Count == 0) return [];
        var all = finished.ToArray();
        finished.Clear();
        return all;
    }
}
