namespace Workq.Control.Apis;

public sealed record LookupResponse(Guid Id, IReadOnlyList<LookupHit> Found, string Note);
