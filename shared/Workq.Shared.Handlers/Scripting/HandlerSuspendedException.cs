using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// Thrown by <c>Sleep</c>, <c>SleepUntil</c> and <c>WaitFor</c> to end the run there: the event runs again from the top
/// when it is due, its steps replayed. Code that catches it still ends the run suspended: nothing it does after can
/// emit or make a request.
/// </summary>
public sealed class HandlerSuspendedException(Suspension suspension) : Exception(
    suspension.Kind == SuspensionKind.Wait
        ? $"The run ends here, waiting for the signal '{suspension.WaitName}' until {suspension.Until:O}; the event " +
          "runs again from the top when it comes or then."
        : $"The run ends here, sleeping until {suspension.Until:O}; the event runs again from the top then.")
{
    public Suspension Suspension { get; } = suspension;
}
