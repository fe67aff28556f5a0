using MassTransit;
using Microsoft.Extensions.Logging;
using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Shared.ControlPlane;

/// <summary>
/// The control plane's error and skipped pipes. A message MassTransit cannot read (no JSON, no envelope, an unknown
/// content type), that no consumer of the endpoint takes, or whose consumer still failed after its retries goes whole
/// to the quarantine, once, and is then acked: never redelivered to come round again. (MassTransit would move it to the
/// endpoint's <c>_error</c> or <c>_skipped</c> queue, which expires with the temporary endpoint a minute after the
/// instance stops.) While PostgreSQL is away the message is held, and the quarantine tried again with backoff.
/// </summary>
public sealed class ControlPlaneQuarantine(QuarantineStore store, ILogger<ControlPlaneQuarantine> logger)
    : IFilter<ExceptionReceiveContext>, IFilter<ReceiveContext>
{
    private readonly PoisonGuard guard = new(new OutageLog(logger, "Quarantining control-plane messages"));

    async Task IFilter<ExceptionReceiveContext>.Send(
        ExceptionReceiveContext context,
        IPipe<ExceptionReceiveContext> next)
    {
        // Faulted (and logged so by MassTransit) once: else the skipped pipe would take the message as well,
        // unconsumed.
        if (!context.IsFaulted) await context.NotifyFaulted(context.Exception);
        await QuarantineAsync(
            context,
            context.Exception,
            context.TryGetPayload<ConsumeContext>(out _) ? PoisonGuard.MaxAttempts : 1,
            () => next.Send(context));
    }

    Task IFilter<ReceiveContext>.Send(ReceiveContext context, IPipe<ReceiveContext> next) =>
        QuarantineAsync(context, new PoisonMessageException(
            "No consumer of this endpoint takes the message: its type is none the control plane sends here."),
            1, () => next.Send(context));

    public void Probe(ProbeContext context) => context.CreateFilterScope("workq-quarantine");

    private async Task QuarantineAsync(ReceiveContext context, Exception error, int attempts, Func<Task> next)
    {
        var queue = context.InputAddress.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? "";
        var failure = new PoisonFailure(error, attempts, DateTimeOffset.UtcNow);
        var body = context.Body.GetBytes();
        var entry = context.TryGetPayload<RabbitMqBasicConsumeContext>(out var delivery)
            ? QuarantineEntry.Delivery(
                QuarantineSources.ControlPlane,
                queue,
                delivery.Exchange,
                delivery.RoutingKey ?? "",
                delivery.Properties,
                body,
                failure)
            : new QuarantineEntry(
                QuarantineSources.ControlPlane,
                RedriveKind.None,
                body,
                [],
                Failures.Describe(error),
                attempts,
                failure.FirstFailedAt)
            { Queue = queue };
        var id = 0L;
        await guard.KeepTryingAsync(async token => id = await store.AddAsync(entry, token), context.CancellationToken);
        logger.LogWarning(
            "A control-plane message on {Queue} was quarantined as item {QuarantineId}: {Error}",
            queue,
            id,
            entry.Error);
        await next();
    }
}
