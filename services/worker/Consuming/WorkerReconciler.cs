using Workq.Shared.Configuration;
using Workq.Shared.Storage;
using Workq.Worker.Instance;
using Workq.Worker.Runs;

namespace Workq.Worker.Consuming;

/// <summary>
/// Makes this instance consume exactly the running workers of the registry, with their current code
/// and concurrency. Converges on control-plane events within milliseconds, and re-reads the whole
/// registry periodically as a safety net for anything missed while disconnected.
/// </summary>
public sealed class WorkerReconciler(
    WorkerStore store,
    InstanceStore instances,
    InstanceHeartbeat instance,
    IHandlerHost host,
    ConsumerServices consumerServices,
    PoolOptions options,
    HandlerOptions handlerOptions,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger logger = loggers.CreateLogger<WorkerReconciler>();
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Dictionary<(string Canvas, string Worker), HandlerVersion> handlers = [];
    // The worker incarnation each handler is of.
    private readonly Dictionary<(string Canvas, string Worker), long> incarnations = [];
    private readonly Dictionary<(string Canvas, string Worker), WorkerConsumer> consumers = [];
    private readonly Dictionary<(string Canvas, string Worker), long> applied = [];
    private readonly List<Task> draining = [];

    private TimeSpan DrainFor => handlerOptions.HandlerTimeout + TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.ReconcileInterval);
        try
        {
            do
            {
                try
                {
                    await ReconcileAllAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Reconciling workers from the registry failed; retrying on the next tick");
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // Reads happen inside the gate: a read taken before it could be applied after a newer one and undo it.
    public async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        await consumerServices.Cancelled.ReloadAsync(cancellationToken);
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Workers of canvases outside this instance's pool (WORKQ_CANVASES) are not consumed, nor compiled.
            var all = await store.ListAsync(canvas: null, cancellationToken);
            var workers = all.Where(w => options.Canvases.Matches(w.Canvas)).ToList();
            foreach (var worker in workers) await ApplyAsync(worker, cancellationToken);
            var known = workers.Select(w => (w.Canvas, w.Name)).ToHashSet();
            var anywhere = all.Select(w => (w.Canvas, w.Name)).ToHashSet();
            foreach (var gone in handlers.Keys.Where(k => !known.Contains(k))
                .ToList()) await RemoveAsync(gone, deleted: !anywhere.Contains(gone));
            // Marked for every worker, ours or not: control waits for every live instance.
            await MarkAppliedAsync(all, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task ReconcileAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            var record = await store.GetAsync(canvas, worker, cancellationToken);
            if (record is null) await RemoveAsync((canvas, worker), deleted: true);
            else
            {
                // A worker outside this instance's pool is applied by leaving it alone.
                if (options.Canvases.Matches(canvas)) await ApplyAsync(record, cancellationToken);
                else await RemoveAsync((canvas, worker), deleted: false);
                await MarkAppliedAsync([record], cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task ApplyAsync(WorkerRecord worker, CancellationToken cancellationToken)
    {
        var key = (worker.Canvas, worker.Name);
        // Deleted and created again (or its canvas) since: the old incarnation is gone, and its version 1 is not the
        // new one's.
        if (consumers.TryGetValue(key, out var old)
            && old.Incarnation != (worker.CanvasIncarnation, worker.Incarnation)) await RemoveAsync(key, deleted: true);
        if (!handlers.TryGetValue(key, out var handler) || handler.Version != worker.Version
            || incarnations.GetValueOrDefault(key) != worker.Incarnation)
        {
            // Control compiled it at deploy: this service never runs the compiler on handler code.
            var assembly = await store.GetAssemblyAsync(worker.Canvas, worker.Name, worker.Version, cancellationToken);
            if (assembly is null)
            {
                logger.LogWarning("{Canvas}/{Worker} v{Version} has no compiled assembly yet (control compiles it " +
                    "when it starts); not consuming it",
                    worker.Canvas, worker.Name, worker.Version);
                await RemoveAsync(key, deleted: false);
                return;
            }
            var previous = handler;
            handler = new HandlerVersion(worker.Canvas, worker.Name, worker.Version, assembly);
            handlers[key] = handler;
            incarnations[key] = worker.Incarnation;
            if (consumers.TryGetValue(key, out var live)) live.Handler = handler;
            if (previous is not null) host.Retire(previous);
        }

        consumers.TryGetValue(key, out var consumer);
        if (consumer is not null)
        {
            consumer.Retry = worker.Retry;
            consumer.RateLimit = worker.RateLimit;
        }
        var wanted = worker.IsRunning;
        if (consumer is not null && (!wanted || consumer.Concurrency != worker.Concurrency
            || consumer.Lanes != worker.OrderingLanes
            || consumer.Priorities != worker.PriorityQueues
            || !consumer.IsHealthy))
        {
            consumers.Remove(key);
            await StopAsync(consumer);
            consumer = null;
        }
        if (wanted && consumer is null && consumerServices.Broker.IsRecovering)
        {
            logger.LogInformation("Not consuming {Canvas}/{Worker} until the broker connection has recovered; " +
                "retrying on the next reconcile", worker.Canvas, worker.Name);
            return;
        }
        if (wanted && consumer is null)
        {
            consumer = new WorkerConsumer(
                worker.Canvas,
                worker.Name,
                (worker.CanvasIncarnation, worker.Incarnation),
                worker.Concurrency,
                worker.OrderingLanes,
                worker.PriorityQueues,
                handler,
                worker.Retry,
                consumerServices,
                loggers.CreateLogger<WorkerConsumer>())
            {
                RateLimit = worker.RateLimit,
            };
            try
            {
                await consumer.StartAsync(cancellationToken);
                consumers[key] = consumer;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(
                    e,
                    "Could not start consuming {Canvas}/{Worker}; retrying on the next reconcile",
                    worker.Canvas,
                    worker.Name);
            }
        }
    }

    /// <param name="deleted">The worker (or its canvas) is gone, not only no longer consumed here: its runs are stopped
    /// too.</param>
    private async Task RemoveAsync((string Canvas, string Worker) key, bool deleted)
    {
        if (consumers.Remove(key, out var consumer)) await StopAsync(consumer, deleted);
        if (handlers.Remove(key, out var handler)) host.Retire(handler);
        incarnations.Remove(key);
        applied.Remove(key);
    }

    /// <summary>
    /// Nothing new starts once the consumer is cancelled; the events in flight finish in the background,
    /// so a slow handler never holds up other workers' changes on this instance. A deleted worker's runs do not finish:
    /// they are stopped as at shutdown (docs/DESIGN.md "Deleting a canvas or a worker"), so they emit nothing more.
    /// </summary>
    private async Task StopAsync(WorkerConsumer consumer, bool deleted = false)
    {
        consumer.Deleted = deleted;
        await consumer.CancelAsync();
        draining.RemoveAll(t => t.IsCompleted);
        draining.Add(consumer.DrainAndCloseAsync(DrainFor, shuttingDown: deleted));
    }

    /// <summary>Records which registry change this instance now acts on; control waits for these marks.</summary>
    private async Task MarkAppliedAsync(IEnumerable<WorkerRecord> workers, CancellationToken cancellationToken)
    {
        var fresh = workers.Where(w => !applied.TryGetValue((w.Canvas, w.Name), out var change) || change < w.Change)
            .Select(w => (w.Canvas, w.Name, w.Change)).ToList();
        if (fresh.Count == 0) return;
        await instances.MarkAppliedAsync(instance.Id, fresh, cancellationToken);
        foreach (var (canvas, name, change) in fresh) applied[(canvas, name)] = change;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            foreach (var consumer in consumers.Values) await consumer.CancelAsync();
            await Task.WhenAll(consumers.Values
                .Select(c => c.DrainAndCloseAsync(TimeSpan.FromSeconds(5), shuttingDown: true))
                .Concat(draining));
            consumers.Clear();
        }
        finally
        {
            gate.Release();
        }
    }
}
