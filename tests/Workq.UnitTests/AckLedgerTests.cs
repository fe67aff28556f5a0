using Workq.Shared.Messaging;
using Workq.Worker.Settling;

namespace Workq.UnitTests;

/// <summary>
/// The ledger against a model of the broker's unacked set: a multiple ack settles every unacked tag up
/// to its own and fails when its own tag is not unacked, as RabbitMQ does.
/// </summary>
public sealed class AckLedgerTests
{
    private sealed class BrokerModel
    {
        public readonly SortedSet<ulong> Unacked = [];
        public readonly Dictionary<ulong, string> Outcome = [];

        public void Apply(AckLedger.Settlements due, ISet<ulong> running)
        {
            foreach (var tag in due.Requeue) Settle(tag, "requeued", running);
            if (due.AckThrough > 0)
            {
                Assert.Contains(due.AckThrough, Unacked);
                foreach (var tag in Unacked.Where(t => t <= due.AckThrough).ToList()) Settle(tag, "acked", running);
            }
            foreach (var tag in due.AckSingly) Settle(tag, "acked", running);
        }

        private void Settle(ulong tag, string outcome, ISet<ulong> running)
        {
            Assert.True(Unacked.Remove(tag), $"tag {tag} settled twice or never delivered");
            Assert.False(running.Contains(tag), $"tag {tag} {outcome} while its handler was still running");
            Outcome[tag] = outcome;
        }
    }

    [Fact]
    public void In_order_completions_become_one_multiple_ack()
    {
        var ledger = new AckLedger(window: 100);
        for (var i = 0; i < 5; i++) ledger.Started();
        for (ulong tag = 1; tag <= 4; tag++) Assert.False(ledger.Finished(tag, requeueIt: false));
        Assert.True(ledger.Finished(5, requeueIt: false));

        var due = ledger.Take();
        Assert.Equal(5ul, due.AckThrough);
        Assert.Empty(due.AckSingly);
        Assert.Empty(due.Requeue);
    }

    [Fact]
    public void A_running_tag_stops_the_prefix_and_is_never_covered()
    {
        var ledger = new AckLedger(window: 100);
        for (var i = 0; i < 3; i++) ledger.Started();
        ledger.Finished(1, false);
        ledger.Finished(3, false);

        var due = ledger.Take();
        Assert.Equal(1ul, due.AckThrough);
        Assert.Empty(due.AckSingly);

        Assert.True(ledger.Finished(2, false));
        Assert.Equal(3ul, ledger.Take().AckThrough);
    }

    [Fact]
    public void Finished_events_behind_a_slow_one_are_acked_singly_once_they_fill_half_the_window()
    {
        var ledger = new AckLedger(window: 4);
        for (var i = 0; i < 4; i++) ledger.Started();
        Assert.False(ledger.Finished(2, false));
        Assert.True(ledger.Finished(3, false));

        var due = ledger.Take();
        Assert.Equal(0ul, due.AckThrough);
        Assert.Equal([2ul, 3ul], due.AckSingly.Order());

        // The slow one finishing later is acked through the tags already acked singly, without repeating them.
        ledger.Finished(1, false);
        Assert.Equal(1ul, ledger.Take().AckThrough);
        ledger.Finished(4, false);
        Assert.Equal(4ul, ledger.Take().AckThrough);
    }

    [Fact]
    public void A_requeue_is_sent_at_once_and_before_the_ack_that_passes_it()
    {
        var ledger = new AckLedger(window: 100);
        for (var i = 0; i < 3; i++) ledger.Started();
        Assert.False(ledger.Finished(1, false));
        Assert.True(ledger.Finished(2, requeueIt: true));
        Assert.True(ledger.Finished(3, false));

        var due = ledger.Take();
        Assert.Equal([2ul], due.Requeue);
        Assert.Equal(3ul, due.AckThrough);
    }

    [Fact]
    public void After_a_channel_reset_everything_is_settled_singly()
    {
        var ledger = new AckLedger(window: 100);
        ledger.Started();
        ledger.Started();
        ledger.ChannelReset();
        Assert.True(ledger.Finished(7, false));
        var due = ledger.Take();
        Assert.Equal(0ul, due.AckThrough);
        Assert.Equal([7ul], due.AckSingly);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(10, 3)]
    [InlineData(100, 4)]
    [InlineData(7, 5)]
    public void Random_interleavings_never_settle_a_running_event_and_settle_every_event_once(int window, int seed)
    {
        var random = new Random(seed);
        var ledger = new AckLedger(window);
        var broker = new BrokerModel();
        var running = new HashSet<ulong>();
        var delivered = new List<ulong>();
        var wanted = new Dictionary<ulong, string>();
        ulong nextTag = 1;
        const int events = 2_000;

        while (wanted.Count < events || running.Count > 0 || delivered.Count > 0)
        {
            var roll = random.Next(10);
            if (roll < 4 && wanted.Count + delivered.Count + running.Count < events && broker.Unacked.Count < window)
            {
                // The broker delivers in tag order; the callbacks may start in any order.
                broker.Unacked.Add(nextTag);
                delivered.Add(nextTag++);
            }
            else if (roll < 6 && delivered.Count > 0)
            {
                var index = random.Next(delivered.Count);
                running.Add(delivered[index]);
                delivered.RemoveAt(index);
                ledger.Started();
            }
            else if (roll < 9 && running.Count > 0)
            {
                var tag = running.ElementAt(random.Next(running.Count));
                running.Remove(tag);
                var requeue = random.Next(20) == 0;
                wanted[tag] = requeue ? "requeued" : "acked";
                if (ledger.Finished(tag, requeue)) broker.Apply(ledger.Take(), running);
            }
            else
            {
                broker.Apply(ledger.Take(), running);
            }
        }
        broker.Apply(ledger.Take(), running);

        Assert.Empty(broker.Unacked);
        Assert.Equal(wanted.OrderBy(p => p.Key), broker.Outcome.OrderBy(p => p.Key));
    }
}
