namespace Workq.Worker.Consuming;

/// <summary>
/// Tokens granted from a worker's bucket: token <c>i</c> (0-based, <c>i &lt; Tokens</c>) may be used at <c>First + i ×
/// interval</c>, in the database's clock (<c>Now</c>, epoch seconds). No tokens: the next one is at <c>First</c>.
/// </summary>
public readonly record struct RateGrant(double First, double Now, int Tokens);
