using Workq.Shared.Storage;

namespace Workq.Control.Deploying;

/// <summary>
/// A deploy as PUT asks for it: the code, already within WORKQ_MAX_CODE_BYTES, and the settings it sets.
/// </summary>
public sealed record WorkerDeploy(string Code, WorkerSettings Settings);
