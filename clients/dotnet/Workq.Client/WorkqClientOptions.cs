namespace Workq.Client;

/// <summary>What <c>AddWorkqClient</c> configures: where the services are, the token, and the retry policy.</summary>
public sealed class WorkqClientOptions
{
    /// <summary>The emitter, e.g. http://127.0.0.1:8081.</summary>
    public Uri? EmitterUrl { get; set; }

    /// <summary>
    /// The control API, e.g. http://127.0.0.1:8080; needed only for <see cref="WorkqControlClient"/>.
    /// </summary>
    public Uri? ControlUrl { get; set; }

    /// <summary>A canvas token, or the admin token.</summary>
    public string? Token { get; set; }

    public WorkqRetryOptions Retry { get; set; } = new();
}
