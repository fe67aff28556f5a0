using Microsoft.Extensions.Configuration;

namespace Workq.Shared.Configuration;

/// <summary>What every service needs to listen and to reach its database, and the admin token that guards it.</summary>
public sealed class ServiceOptions
{
    /// <summary>
    /// The token older docs and scripts used for local runs: refused outside Development, like no token at all.
    /// </summary>
    public const string DevelopmentAdminToken = "workq-dev-admin-token";
    public const int MinAdminTokenLength = 16;

    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; }
    public string Postgres { get; init; } = "Host=127.0.0.1;Port=5432;Username=workq;Password=workq;Database=workq";
    public string? AdminToken { get; init; }

    public static ServiceOptions From(IConfiguration config, int defaultPort)
    {
        var defaults = new ServiceOptions();
        return new ServiceOptions
        {
            Host = config["WORKQ_HOST"] ?? defaults.Host,
            Port = Setting.Int(config, "WORKQ_PORT", defaultPort),
            Postgres = config["WORKQ_POSTGRES"] ?? defaults.Postgres,
            AdminToken = Setting.Text(config, "WORKQ_ADMIN_TOKEN"),
        };
    }

    /// <summary>Why this admin token must not guard a deployment outside Development, or null when it may.</summary>
    public string? AdminTokenProblem() => AdminToken switch
    {
        null => "WORKQ_ADMIN_TOKEN is not set: set it to a long random secret "
            + "(ASPNETCORE_ENVIRONMENT=Development allows running without one).",
        DevelopmentAdminToken => "WORKQ_ADMIN_TOKEN is the well-known development token "
            + $"'{DevelopmentAdminToken}': set it to a long random secret.",
        { Length: < MinAdminTokenLength } => $"WORKQ_ADMIN_TOKEN is shorter than {MinAdminTokenLength} characters: "
            + "set it to a long random secret.",
        _ => null,
    };
}
