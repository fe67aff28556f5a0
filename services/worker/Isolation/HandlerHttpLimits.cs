namespace Workq.Worker.Isolation;

/// <summary>
/// The bounds of a handler's relayed <c>Http</c>: told to the runner at start, enforced here whatever the runner does.
/// </summary>
public sealed record HandlerHttpLimits(int MaxBytes, int Concurrency)
{
    public const string MaxBytesVariable = "WORKQ_HANDLER_HTTP_MAX_BYTES";
}
