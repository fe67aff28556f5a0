namespace Workq.Tests.Client;

/// <summary>
/// Where a simulated 503 strikes: before the emitter sees the request, or after it answered (the answer is lost).
/// </summary>
public enum FailurePoint { BeforeForwarding, AfterForwarding }
