namespace Workq.Control.Apis;

public sealed record PurgedResponse(long Purged);
