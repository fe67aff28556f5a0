using Microsoft.Extensions.Configuration;
using Workq.Shared.Configuration;

namespace Workq.UnitTests.Hosting;

/// <summary>WORKQ_* variables as the services would see them, for the settings' tests.</summary>
internal static class Variables
{
    public static IConfiguration Config(params (string Name, string Value)[] variables) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(variables.Select(v => KeyValuePair.Create(v.Name, (string?)v.Value)))
            .Build();

    public static WorkqOptions Options(params (string Name, string Value)[] variables) =>
        WorkqOptions.From(Config(variables), defaultPort: 8080);
}
