using Workq.Control.Apis;
using Workq.Control.Compiling;

namespace Workq.Control.Deploying;

/// <summary>
/// What a deploy did: <c>Worker</c> is null when the compile refused it (see <c>Compilation</c>) or when an earlier
/// deletion of the worker has not finished (<c>Deleting</c>).
/// </summary>
public sealed record DeployOutcome(
    CompileOutcome Compilation,
    WorkerView? Worker = null,
    bool Created = false,
    bool Deleting = false);
