using Workq.Shared.Handlers.Isolation;

namespace Workq.Tests.Isolation;

/// <summary>
/// The runner sandbox at a worker instance's start: in force by default and said so (/readyz, the instances view, the
/// worker object); where it cannot start the worker refuses to start in canvas isolation, in one line, unless
/// WORKQ_SANDBOX=off. "Where it cannot start" is a worker under a seccomp filter that refuses new user namespaces, as
/// Docker's default one does.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SandboxStartupTests(WorkqCluster cluster)
{
    private const int NotPermitted = 1;
    private const int NotImplemented = 38;
    private const ulong NewUserNamespace = 0x10000000;

    [Fact]
    public async Task The_sandbox_in_force_shows_in_readyz_the_instances_view_and_the_worker_object()
    {
        var worker = cluster.Workers.First(w => !w.HasExited);
        using var ready = await cluster.Http.GetAsync(new Uri(worker.Url, "/readyz"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(
            new[] { "ready", "sandbox: namespaces+seccomp" },
            (await ready.Content.ReadAsStringAsync()).Split('\n'));

        var (canvas, token) = await cluster.CreateCanvasAsync("sandboxed");
        await cluster.DeployAsync(canvas, "w", "return 1;", token: token);
        await cluster.TraceOfAsync(
            canvas,
            "w",
            await cluster.EmitAsync(canvas, "w", "null", token),
            TimeSpan.FromSeconds(60));
        var instances = (await cluster.JsonAsync(
            HttpMethod.Get,
            cluster.ControlUrl("/v1/instances"),
            cluster.AdminToken)).As<List<InstanceDetail>>();
        Assert.Equal("namespaces+seccomp", instances.Single(i => i.Pid == worker.Id).Sandbox);
        var view = await cluster.EventuallyAsync(
            () => cluster.GetWorkerDetailAsync(canvas, "w"),
            w => w.Runner?.Sandbox is not null,
            TimeSpan.FromSeconds(10),
            "the worker object's runner to name its sandbox");
        Assert.Equal("namespaces+seccomp", view.Runner!.Sandbox);
    }

    [Fact]
    public async Task Where_user_namespaces_are_refused_the_worker_refuses_to_start_in_one_line()
    {
        using var filter = NoUserNamespaces();
        await using var worker = ServiceProcess.Start(
            "Worker",
            $"worker-no-userns-{Guid.NewGuid():N}",
            cluster.ServiceEnvironment,
            cluster.LogDirectory,
            launcher: Confined(filter.Path));
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await worker.WaitForExitAsync(patience.Token);

        Assert.Equal(78, worker.ExitCode);
        var line = Assert.Single(
            File.ReadAllLines(worker.LogPath),
            l => !l.StartsWith("[process exited", StringComparison.Ordinal));
        Assert.StartsWith(
            "Workq.Worker refuses to start: runner processes cannot start in their sandbox here: bwrap: ",
            line,
            StringComparison.Ordinal);
        Assert.Contains("namespace", line, StringComparison.Ordinal);
        Assert.Contains("WORKQ_SANDBOX=off", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_WORKQ_SANDBOX_off_it_starts_there_and_says_so()
    {
        using var filter = NoUserNamespaces();
        var environment = cluster.ServiceEnvironment;
        environment["WORKQ_SANDBOX"] = "off";
        await using var worker = ServiceProcess.Start(
            "Worker",
            $"worker-sandbox-off-{Guid.NewGuid():N}",
            environment,
            cluster.LogDirectory,
            launcher: Confined(filter.Path));
        await worker.WaitReadyAsync(cluster.Http, TimeSpan.FromSeconds(90));

        using var ready = await cluster.Http.GetAsync(new Uri(worker.Url, "/readyz"));
        Assert.Equal(new[] { "ready", "sandbox: off" }, (await ready.Content.ReadAsStringAsync()).Split('\n'));
    }

    // bwrap, as this test's user, starts the worker on the whole file system under a seccomp filter that its every
    // descendant keeps.
    private static string[] Confined(string filter) =>
        ["/bin/sh", "-c", "exec bwrap --dev-bind / / --seccomp 3 -- \"$@\" 3< \"$0\"", filter];

    // What Docker's default seccomp profile refuses to an unprivileged container: a new user namespace, by unshare or
    // clone.
    private static TemporaryFile NoUserNamespaces()
    {
        var file = new TemporaryFile();
        using var filter = new SeccompFilter();
        filter.Refuse("unshare", NotPermitted);
        filter.Refuse("clone3", NotImplemented);
        filter.Refuse(
            "clone",
            NotPermitted,
            new SeccompFilter.ArgumentMatch(0, NewUserNamespace, Mask: NewUserNamespace));
        using (var stream = new FileStream(file.Path, FileMode.Create, FileAccess.Write)) filter.Export(
            stream.SafeFileHandle);
        return file;
    }

    private sealed class TemporaryFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.GetTempFileName();

        public void Dispose() => File.Delete(Path);
    }
}
