using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record MetricsAnswer(int Step, IReadOnlyList<MetricsPoint> Points);
