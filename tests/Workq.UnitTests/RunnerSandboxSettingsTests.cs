using Microsoft.Extensions.Configuration;
using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Isolation;
using Workq.Worker.Isolation;

namespace Workq.UnitTests;

/// <summary>
/// The runner sandbox's settings (WORKQ_SANDBOX, WORKQ_RUNNER_PIDS) and the seccomp filter it is built with.
/// </summary>
public sealed class RunnerSandboxSettingsTests
{
    private static HandlerOptions Options(params (string Key, string Value)[] settings) =>
        HandlerOptions.From(new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    [Fact]
    public void The_sandbox_is_on_by_default_with_256_tasks_per_runner()
    {
        var options = Options();
        Assert.Equal(RunnerSandboxMode.Namespaces, options.Sandbox);
        Assert.Equal(256, options.RunnerPids);
    }

    [Theory]
    [InlineData("namespaces", RunnerSandboxMode.Namespaces)]
    [InlineData("on", RunnerSandboxMode.Namespaces)]
    [InlineData("", RunnerSandboxMode.Namespaces)]
    [InlineData("off", RunnerSandboxMode.Off)]
    public void WORKQ_SANDBOX_reads_namespaces_on_and_off(string value, RunnerSandboxMode expected) =>
        Assert.Equal(expected, Options(("WORKQ_SANDBOX", value)).Sandbox);

    [Theory]
    [InlineData("none")]
    [InlineData("OFF")]
    [InlineData("seccomp")]
    public void Another_WORKQ_SANDBOX_is_refused_naming_the_variable_and_its_values(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Options(("WORKQ_SANDBOX", value)));
        Assert.Contains("WORKQ_SANDBOX", error.Message);
        Assert.Contains("'namespaces'", error.Message);
        Assert.Contains("'off'", error.Message);
        Assert.Contains(value, error.Message);
    }

    [Fact]
    public void WORKQ_RUNNER_PIDS_is_read_and_must_be_positive()
    {
        Assert.Equal(64, Options(("WORKQ_RUNNER_PIDS", "64")).RunnerPids);
        Assert.Contains(
            "WORKQ_RUNNER_PIDS",
            Assert.Throws<InvalidOperationException>(() => Options(("WORKQ_RUNNER_PIDS", "0"))).Message);
    }

    [Fact]
    public void The_seccomp_list_names_each_call_once_and_libseccomp_knows_them_on_this_machine()
    {
        var calls = RunnerSandbox.Refused.SelectMany(r => r.Calls).ToList();
        Assert.Equal(calls.Count, calls.Distinct(StringComparer.Ordinal).Count());
        Assert.DoesNotContain("execve", calls);
        using var filter = new SeccompFilter();
        // libseccomp 2.5.4 (Debian 12) knows them all: none is silently skipped on these machines.
        Assert.All(calls, call => Assert.True(filter.Refuse(call, 1), $"libseccomp does not know {call}"));
        Assert.False(filter.Refuse("no_such_call", 1));
    }
}
