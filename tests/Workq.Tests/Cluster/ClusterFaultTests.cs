namespace Workq.Tests.Cluster;

/// <summary>
/// Workq on a three-node RabbitMQ cluster, through the faults a cluster exists to survive: a node killed, a node
/// partitioned away, a rolling restart, a frozen node, and the node a worker instance is connected to dying. Each
/// runs under a steady emit load and ends with every accepted event accounted for (<see cref="BrokerFaults"/>).
/// </summary>
[Collection(BrokerClusterCollection.Name)]
[Trait(TestPhase.Trait, TestPhase.Background)]
public sealed class ClusterFaultTests(BrokerClusterFixture fixture, ITestOutputHelper output)
{
    private WorkqCluster Workq => fixture.Workq;
    private RabbitNodes Nodes => fixture.Nodes;

    private Task HealedAsync() => Nodes.WaitHealthyAsync(TimeSpan.FromMinutes(3));

    private async Task<ServiceProcess[]> TwoWorkerInstancesAsync()
    {
        await HealedAsync();
        foreach (var dead in Workq.Workers.Where(w => w.HasExited).ToList()) Workq.Workers.Remove(dead);
        while (Workq.Workers.Count < 2) await Workq.StartWorkerAsync();
        return [.. Workq.Workers];
    }

    /// <summary>The node that leads the most worker queues (the fault's canvas's among them).</summary>
    private async Task<RabbitNode> BusiestLeaderAsync()
    {
        var leaders = await BrokerFaults.WorkerQueueLeadersAsync(Nodes, Workq.VirtualHost);
        var busiest = leaders.Values.GroupBy(n => n).OrderByDescending(g => g.Count()).First();
        return Nodes.Nodes.Single(n => n.NodeName == busiest.Key);
    }

    private async Task<string> LeadershipAsync(RabbitNode node)
    {
        var leaders = await BrokerFaults.WorkerQueueLeadersAsync(Nodes, Workq.VirtualHost);
        return $"{leaders.Values.Count(l => l == node.NodeName)} of {leaders.Count} worker queues led by {node.Name}";
    }

    [ContainersFact]
    public async Task Killing_the_node_that_leads_the_most_worker_queues_loses_no_event()
    {
        await TwoWorkerInstancesAsync();
        var row = await BrokerFaults
            .RunAsync(Workq, "kill -9 the node leading the most worker queues, started again after 15 s", async _ =>
                {
                    var victim = await BusiestLeaderAsync();
                    var leadership = await LeadershipAsync(victim);
                    await victim.KillAsync();
                    await Task.Delay(TimeSpan.FromSeconds(15));   // the fault's length, not a wait for a condition
                    await victim.StartAsync();
                    return new FaultNotes($"killed {victim.Name} ({leadership})");
                }, HealedAsync, output.WriteLine);
        Assert.Equal(0, row.Lost);
    }

    [ContainersFact]
    public async Task Partitioning_one_node_away_for_thirty_seconds_loses_no_event()
    {
        await TwoWorkerInstancesAsync();
        var row = await BrokerFaults.RunAsync(
            Workq,
            "one node partitioned from the other two (and from clients) for 30 s, then healed",
            async _ =>
            {
                // The emitter's node: its connection must find the majority (the minority node pauses itself:
                // pause_minority).
                var emitterNode = (await BrokerFaults.ConnectionNodesAsync(Nodes, Nodes.Nodes[0], Workq.Emitter))
                    .FirstOrDefault();
                var victim = Nodes.Nodes.FirstOrDefault(n => n.NodeName == emitterNode) ?? Nodes.Nodes[^1];
                var leadership = await LeadershipAsync(victim);
                await victim.DisconnectAsync();
                await Task.Delay(TimeSpan.FromSeconds(30));   // the partition's length
                await victim.ReconnectAsync();
                return new FaultNotes($"partitioned {victim.Name}, the emitter's node ({leadership})");
            },
            HealedAsync,
            output.WriteLine);
        Assert.Equal(0, row.Lost);
    }

    [ContainersFact]
    public async Task A_rolling_restart_of_all_three_nodes_loses_no_event()
    {
        await TwoWorkerInstancesAsync();
        var row = await BrokerFaults.RunAsync(Workq, "rolling restart of all three nodes, one at a time", async _ =>
        {
            var each = new List<string>();
            foreach (var node in Nodes.Nodes)
            {
                var clock = Stopwatch.StartNew();
                await node.RestartAsync();
                await HealedAsync();
                each.Add($"{node.Name} {clock.Elapsed.TotalSeconds:0} s");
            }
            return new FaultNotes($"restarted and healthy again: {string.Join(", ", each)}");
        }, HealedAsync, output.WriteLine);
        Assert.Equal(0, row.Lost);
    }

    [ContainersFact]
    public async Task A_frozen_node_for_twenty_seconds_loses_no_event()
    {
        await TwoWorkerInstancesAsync();
        var row = await BrokerFaults.RunAsync(
            Workq,
            "grey failure: the node leading the most worker queues frozen (docker pause) for 20 s",
            async _ =>
            {
                var victim = await BusiestLeaderAsync();
                var leadership = await LeadershipAsync(victim);
                await victim.PauseAsync();
                await Task.Delay(TimeSpan.FromSeconds(20));   // the freeze's length
                await victim.UnpauseAsync();
                return new FaultNotes($"froze {victim.Name} ({leadership})");
            },
            HealedAsync,
            output.WriteLine);
        Assert.Equal(0, row.Lost);
    }

    [ContainersFact]
    public async Task When_a_worker_instances_node_dies_its_consumers_move_to_another_node()
    {
        var instances = await TwoWorkerInstancesAsync();
        var instance = instances[0];
        var moved = "";
        var row = await BrokerFaults
            .RunAsync(Workq, "the node a worker instance is connected to killed; its consumers move", async workq =>
                {
                    var node = Assert.Single(await BrokerFaults.ConnectionNodesAsync(Nodes, Nodes.Nodes[0], instance));
                    var victim = Nodes.Nodes.Single(n => n.NodeName == node);
                    var survivor = Nodes.Nodes.First(n => n != victim);
                    await victim.KillAsync();
                    try
                    {
                        var clock = Stopwatch.StartNew();
                        // While the cluster notices the dead node, a survivor's management API may answer late: that is
                        // "not yet".
                        var now = await workq.EventuallyAsync(() => BrokerFaults.WhileHealingAsync(
                    () => BrokerFaults.ConnectionNodesAsync(Nodes, survivor, instance)),
                            nodes => nodes is [var only] && only != node, TimeSpan.FromSeconds(
                        60), $"{instance.Name}'s connection on another node");
                        // Its consumers are back: every worker queue of the fault's canvas has both instances consuming
                        // again.
                        await workq.EventuallyAsync(() => BrokerFaults.WhileHealingAsync(async () =>
                                (await Nodes.GetAsync(
                            survivor,
                            $"api/queues/{Uri.EscapeDataString(workq.VirtualHost)}?columns=name,consumers")).AsArray()),
                            queues => queues is not null && queues.Where(
                        q => q!["name"]!.GetValue<string>().StartsWith("workq.worker.fault-", StringComparison.Ordinal))
                                .All(q => q!["consumers"]?.GetValue<int>() == 2),
                            TimeSpan.FromSeconds(60), "two consumers on every worker queue");
                        moved = $"{instance.Name} moved from {victim.Name} to {now![0]["rabbit@".Length..]} "
                            + $"and consumed again after {clock.Elapsed.TotalSeconds:0.0} s";
                    }
                    finally
                    {
                        // Whatever the checks found, the next test needs all three nodes.
                        await victim.StartAsync();
                    }
                    return new FaultNotes($"killed {victim.Name}; {moved}");
                }, HealedAsync, output.WriteLine);
        Assert.Equal(0, row.Lost);
        Assert.NotEmpty(moved);
    }
}
