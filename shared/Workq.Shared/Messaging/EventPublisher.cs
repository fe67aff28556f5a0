using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Telemetry;

namespace Workq.Shared.Messaging;

/// <summary>
/// Publishes events with publisher confirms. Each publish completes only when the broker has made
/// the event durable, but many publishes are in flight at once on a small pool of channels, so a batch
/// costs about one round trip rather than one per event.
/// </summary>
public sealed class EventPublisher(
    BrokerConnection broker,
    OnDemandQueues onDemand,
    BrokerOptions options,
    EmitLimits limits,
    ILogger<EventPublisher> logger) : IAsyncDisposable
{
    private const int ChannelCount = 4;
    private const int MaxOutstandingConfirmsPerChannel = 1_000;

    /// <summary>
    /// A blip (a channel closed under us, a lost confirm) is retried twice, quickly and with jitter, on a fresh
    /// channel; a broker that stays away is reported at once as 503. A retried event whose first confirm
    /// was lost may be enqueued twice: delivery is at least once. A nack is no blip: it is the broker
    /// refusing the event, and it is reported at once (<see cref="QueueFullException"/>). Nor is a confirm that did not
    /// come in time: the connection's node is not answering, and another try would only wait as long again.
    /// </summary>
    private static bool IsBlip(Exception e) => e is BrokerUnavailableException { InnerException: not TimeoutException };

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The second and third tries, after a blip on the first (made without the pipeline, whose nested state machines
    /// were a twentieth of the emitter's CPU under load, for a retry almost no publish needs).
    /// </summary>
    private static readonly ResiliencePipeline Blips = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<BrokerUnavailableException>(IsBlip),
            MaxRetryAttempts = 1,
            Delay = 2 * FirstRetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    private readonly IChannel?[] channels = new IChannel?[ChannelCount];
    // Unconfirmed publishes per channel. Past the window a publish waits for room: a burst of large batches
    // is slowed down, never refused (the client's own limiter, set wider, would throw instead).
    private readonly SemaphoreSlim[] windows = [.. Enumerable.Range(0, ChannelCount)
        .Select(_ => new SemaphoreSlim(MaxOutstandingConfirmsPerChannel))];
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly ConfirmDeadline deadline = new(options.PublishTimeout);
    private int next;

    /// <summary>
    /// The exchange name and header table of the last event published on this thread. The events of a
    /// batch differ only in their ids, so they share one table instead of building it once per event.
    /// </summary>
    private sealed record SharedHeaders(EventEnvelope Of, string Exchange, Dictionary<string, object?> Table)
    {
        // Every field but the id, whatever fields the envelope grows: one left out (a resume's number, say) would
        // carry the last event's value to the next.
        public bool Fits(in EventEnvelope envelope) => (Of with { Id = envelope.Id }).Equals(envelope);
    }

    [ThreadStatic] private static SharedHeaders? lastHeaders;

    /// <summary>
    /// Publishes one event to its canvas and returns once the broker confirmed it. Throws <see
    /// cref="QueueFullException"/> when the broker refused it, <see cref="BrokerUnavailableException"/> when it could
    /// not confirm it.
    /// </summary>
    /// <remarks>An event with an ordering key goes to its worker's lane for the key (docs/DESIGN.md "Ordering keys"),
    /// a high or low one without a key to the worker's queue for its priority (docs/DESIGN.md "Priorities"), declared
    /// first if need be.</remarks>
    public Task PublishAsync(EventEnvelope envelope, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (envelope.OrderingKey is not null || envelope.Priority != Priority.Normal)
            return PublishRoutedAsync(envelope, body, cancellationToken);
        // Traced publishes carry a span of their own in each event's headers, so nothing is shared.
        if (WorkqDiagnostics.Source.HasListeners()) return PublishTracedAsync(
            Topology.CanvasExchange(envelope.Canvas),
            envelope.Worker,
            envelope,
            body,
            cancellationToken);
        var shared = lastHeaders;
        if (shared is null || !shared.Fits(envelope))
            lastHeaders = shared = new SharedHeaders(
                envelope,
                Topology.CanvasExchange(envelope.Canvas),
                EventHeaders.Table(envelope));
        return PublishAsync(
            shared.Exchange,
            envelope.Worker,
            envelope,
            EventHeaders.Create(envelope.Id, shared.Table),
            body,
            cancellationToken);
    }

    private async Task PublishRoutedAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        var routingKey = envelope.OrderingKey is { } key
            ? await onDemand.LaneRoutingKeyAsync(envelope.Canvas, envelope.Worker, key, cancellationToken)
            : await onDemand.PriorityRoutingKeyAsync(envelope.Canvas, envelope.Worker, envelope.Priority,
                cancellationToken);
        await PublishTracedAsync(
            Topology.CanvasExchange(envelope.Canvas),
            routingKey,
            envelope,
            body,
            cancellationToken);
    }

    /// <summary>
    /// Publishes events one after another, each after the previous one's confirm, where their order matters: those with
    /// the same worker and ordering key. The others, and different keys, go at once. The tasks follow <paramref
    /// name="events"/>.
    /// </summary>
    public IReadOnlyList<Task> PublishInOrder(
        IReadOnlyList<(EventEnvelope Envelope, ReadOnlyMemory<byte> Body)> events,
        CancellationToken cancellationToken)
    {
        var tasks = new Task[events.Count];
        Dictionary<(string Worker, string Key), Task>? tails = null;
        for (var i = 0; i < events.Count; i++)
        {
            var (envelope, body) = events[i];
            if (envelope.OrderingKey is not { } key)
            {
                tasks[i] = PublishAsync(envelope, body, cancellationToken);
                continue;
            }
            tails ??= [];
            tasks[i] = tails[(envelope.Worker, key)] = tails.TryGetValue((envelope.Worker, key), out var previous)
                ? AfterAsync(previous, envelope, body, cancellationToken)
                : PublishAsync(envelope, body, cancellationToken);
        }
        return tasks;
    }

    // Two publishes on different channels, or a retried one, may reach the queue in either order: the next waits for
    // the confirm.
    private async Task AfterAsync(
        Task previous,
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        await previous;
        await PublishAsync(envelope, body, cancellationToken);
    }

    private async Task PublishTracedAsync(
        string exchange,
        string routingKey,
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        using var activity = WorkqDiagnostics.StartPublish(envelope, exchange);
        // The event carries the publish span's context, so its run becomes that span's child in the same trace.
        if (activity is not null) envelope = envelope with { TraceParent = activity.Id };
        try
        {
            await PublishAsync(exchange, routingKey, envelope, EventHeaders.Create(envelope), body, cancellationToken);
        }
        catch (Exception e)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    /// <summary>Publishes an event to any exchange (retries, dead letters) with confirms.</summary>
    public async Task PublishAsync(
        string exchange,
        string routingKey,
        EventEnvelope envelope,
        BasicProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        try
        {
            await PublishOnceAsync(exchange, routingKey, envelope, properties, body, cancellationToken);
            return;
        }
        catch (Exception e) when (IsBlip(e))
        {
            // Tried again below, after a jittered pause.
        }
        await Task.Delay(FirstRetryDelay * (0.5 + Random.Shared.NextDouble()), cancellationToken);
        await Blips.ExecuteAsync(static async (state, token) => await state.Self
            .PublishOnceAsync(state.Exchange, state.RoutingKey, state.Envelope, state.Properties, state.Body, token),
            (Self: this, Exchange: exchange, RoutingKey: routingKey, Envelope: envelope, Properties: properties,
                Body: body), cancellationToken);
    }

    private async Task PublishOnceAsync(
        string exchange,
        string routingKey,
        EventEnvelope envelope,
        BasicProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        var slot = (int)((uint)Interlocked.Increment(ref next) % ChannelCount);
        var channel = channels[slot] is { IsOpen: true } open ? open : await OpenAsync(slot, cancellationToken);
        await windows[slot].WaitAsync(cancellationToken);
        var timeout = deadline.Token;
        // The request's own token is linked only when it can fire, so a publish without one allocates no token source.
        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout)
            : null;
        try
        {
            await channel.BasicPublishAsync(
                exchange,
                routingKey,
                mandatory: false,
                properties,
                body,
                linked?.Token ?? timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested
            && !cancellationToken.IsCancellationRequested)
        {
            // A node that holds the connection open but does not answer (frozen, or cut off from the queue's leader).
            logger.LogWarning(
                "Publish of event {EventId} to {Canvas}/{Worker} was not confirmed within {Timeout}",
                envelope.Id,
                envelope.Canvas,
                envelope.Worker,
                options.PublishTimeout);
            throw new BrokerUnavailableException(
                "The broker did not confirm the event in time.",
                new TimeoutException());
        }
        catch (PublishException nack) when (!nack.IsReturn)
        {
            // A nack: the queue refused the event. Every queue we publish to that can refuse is a worker's queue at its
            // x-max-length (reject-publish); the others have no length limit.
            throw new QueueFullException(envelope.Canvas, envelope.Worker, limits.MaxQueuedPerWorker);
        }
        catch (Exception e) when (e is PublishException or BrokerUnreachableException || BrokerErrors.IsChannelGone(e))
        {
            logger.LogWarning(
                e,
                "Publish of event {EventId} to {Canvas}/{Worker} was not confirmed",
                envelope.Id,
                envelope.Canvas,
                envelope.Worker);
            throw new BrokerUnavailableException("The broker did not confirm the event.", e);
        }
        finally
        {
            windows[slot].Release();
        }
    }

    private async Task<IChannel> OpenAsync(int slot, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (channels[slot] is { IsOpen: true } open) return open;
            var connection = await broker.GetAsync(cancellationToken);
            var options = new CreateChannelOptions(
                publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true,
                // Twice our window: it never refuses, nor slows down (it throttles past half of its size).
                outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(
                    2 * MaxOutstandingConfirmsPerChannel));
            var channel = await connection.CreateChannelAsync(options, cancellationToken);
            if (channels[slot] is { } stale) stale.Dispose();
            channels[slot] = channel;
            return channel;
        }
        catch (Exception e) when (e is BrokerUnreachableException || BrokerErrors.IsChannelGone(e))
        {
            throw new BrokerUnavailableException("The broker cannot be reached.", e);
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in channels)
        {
            if (channel is null) continue;
            if (channel.IsOpen) await channel.CloseAsync();
            channel.Dispose();
        }
        gate.Dispose();
        foreach (var window in windows) window.Dispose();
    }
}

/// <summary>
/// The deadline for a publish's confirm, shared by every publish started in the same second: one token source a second
/// instead of one per event. A publish so gets between <c>timeout</c> and <c>timeout</c> + 1 s.
/// </summary>
internal sealed class ConfirmDeadline(TimeSpan timeout, TimeProvider? time = null)
{
    private readonly TimeProvider time = time ?? TimeProvider.System;

    private sealed record Window(long Second, CancellationTokenSource Source);

    private Window? current;

    public CancellationToken Token
    {
        get
        {
            var second = time.GetTimestamp() / time.TimestampFrequency;
            var window = Volatile.Read(ref current);
            if (window is not null && window.Second == second) return window.Source.Token;
            // Two threads may both open the second's window; either one serves. The old source is left to its timer:
            // publishes still hold its token, and it cancels itself at its deadline.
            var opened = new Window(second, new CancellationTokenSource(timeout + TimeSpan.FromSeconds(1), time));
            Volatile.Write(ref current, opened);
            return opened.Source.Token;
        }
    }
}
