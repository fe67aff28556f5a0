using Workq.Emitter.Emitting;

namespace Workq.UnitTests.Input;

/// <summary>
/// The emitter's decisions apart from its stores and the broker (API.md "Emit", idempotency keys): one id per event,
/// one event per key in a batch, and the first id of a key another emit claimed.
/// </summary>
public sealed class EmitPlanTests
{
    private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(
        1_234_567);

    private static BatchItem Item(string? key = null, DateTimeOffset? runAt = null)
        => new("w", "1"u8.ToArray(), key, runAt);

    [Fact]
    public void Without_keys_every_item_is_a_new_event_with_its_own_id_made_at_one_microsecond()
    {
        var plan = EmitPlan.Create([Item(), Item(), Item(runAt: Now.AddHours(1))], Now);
        Assert.Equal(Now.AddTicks(-7), plan.EnqueuedAt);
        Assert.Equal(3, plan.Results.Select(r => r.Id).Distinct().Count());
        Assert.All(plan.Results, r => Assert.Equal(plan.EnqueuedAt, r.EnqueuedAt));
        // Version 7 ids carry their millisecond: ids sort as the events were made.
        Assert.All(plan.Results, r => Assert.Equal(7, r.Id.Version));
        Assert.All(plan.Publish, Assert.True);
        Assert.Empty(plan.Claims);
    }

    [Fact]
    public void A_key_given_twice_in_a_batch_is_one_event_and_one_claim()
    {
        var plan = EmitPlan.Create([Item("a"), Item("b"), Item("a"), Item()], Now);
        Assert.Equal(plan.Results[0], plan.Results[2]);
        Assert.Equal([true, true, false, true], plan.Publish);
        Assert.Equal([("a", plan.Results[0].Id), ("b", plan.Results[1].Id)], plan.Claims);
    }

    [Fact]
    public void Keys_that_are_stored_alike_are_one_key()
    {
        // Each lone surrogate is stored as U+FFFD, so these two keys are one row of the idempotency store.
        var plan = EmitPlan.Create([Item("k\uD800"), Item("k\uDBFF")], Now);
        Assert.Equal(plan.Results[0], plan.Results[1]);
        Assert.Equal([true, false], plan.Publish);
        Assert.Equal(("k\uFFFD", plan.Results[0].Id), Assert.Single(plan.Claims));
    }

    [Fact]
    public void A_key_another_emit_owns_answers_with_its_id_and_is_neither_published_nor_given_back()
    {
        var plan = EmitPlan.Create([Item("mine"), Item("theirs"), Item("theirs"), Item()], Now);
        var mine = plan.Results[0];
        var theirs = (Id: Guid.CreateVersion7(), EnqueuedAt: Now.AddHours(-1));
        plan.Claimed(new Dictionary<string, (Guid, DateTimeOffset)>
        {
            ["mine"] = (mine.Id, mine.EnqueuedAt),
            ["theirs"] = theirs
        });

        Assert.Equal(mine, plan.Results[0]);
        Assert.Equal(new Emitted(theirs.Id, theirs.EnqueuedAt), plan.Results[1]);
        Assert.Equal(new Emitted(theirs.Id, theirs.EnqueuedAt), plan.Results[2]);
        Assert.Equal([true, false, false, true], plan.Publish);
        // Only this emit's claims may be released if its publish fails.
        Assert.Equal(("mine", mine.Id), Assert.Single(plan.Claims));
    }

    [Fact]
    public void A_claim_the_store_did_not_answer_for_stays_this_emits()
    {
        var plan = EmitPlan.Create([Item("a")], Now);
        plan.Claimed(new Dictionary<string, (Guid, DateTimeOffset)>());
        Assert.True(plan.Publish[0]);
        Assert.Single(plan.Claims);
    }
}
