namespace Workq.Tests.Integration;

/// <summary>A Workq whose control gives a compile 2 s, so compile bombs are stopped quickly.</summary>
public sealed class CompileSandboxCluster : IAsyncLifetime
{
    public const int Compilers = 2;
    public static readonly TimeSpan CompileTimeout = TimeSpan.FromSeconds(2);

    public WorkqCluster Cluster { get; } = new()
    {
        ExtraEnvironment = new Dictionary<string, string>
        {
            ["WORKQ_COMPILE_TIMEOUT_SECONDS"] = CompileTimeout.TotalSeconds
                .ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["WORKQ_MAX_CONCURRENT_COMPILES"] = Compilers.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
    };

    public Task InitializeAsync() => Cluster.InitializeAsync();

    public Task DisposeAsync() => Cluster.DisposeAsync();
}
