using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Workq.Shared.Configuration;
using static Workq.UnitTests.Hosting.Variables;

namespace Workq.UnitTests.Hosting;

/// <summary>
/// The options components (ServiceOptions, BrokerOptions, EmitLimits, ...): every WORKQ_* variable they read, its
/// default, its binding, the error that names it; and that each service is given components, never the aggregate.
/// </summary>
public sealed partial class OptionsComponentsTests
{
    /// <summary>Every variable the components read, and where its value lands, as text.</summary>
    private static readonly Dictionary<string, Func<WorkqOptions, object?>> Reads = new()
    {
        ["WORKQ_HOST"] = o => o.Service.Host,
        ["WORKQ_PORT"] = o => o.Service.Port,
        ["WORKQ_POSTGRES"] = o => o.Service.Postgres,
        ["WORKQ_ADMIN_TOKEN"] = o => o.Service.AdminToken,
        ["WORKQ_RABBITMQ_URL"] = o => o.Broker.Amqp,
        ["WORKQ_RABBITMQ_MANAGEMENT_URL"] = o => o.Broker.Management,
        ["WORKQ_PUBLISH_TIMEOUT_SECONDS"] = o => o.Broker.PublishTimeout,
        ["WORKQ_MAX_EVENT_BYTES"] = o => o.Emit.MaxEventBytes,
        ["WORKQ_MAX_STEP_BYTES"] = o => o.Emit.MaxStepBytes,
        ["WORKQ_MAX_EMIT_DEPTH"] = o => o.Emit.MaxEmitDepth,
        ["WORKQ_MAX_EMITS_PER_EVENT"] = o => o.Emit.MaxEmitsPerEvent,
        ["WORKQ_MAX_QUEUED_PER_WORKER"] = o => o.Emit.MaxQueuedPerWorker,
        ["WORKQ_MAX_SCHEDULED_PER_WORKER"] = o => o.Emit.MaxScheduledPerWorker,
        ["WORKQ_CANVAS_EMIT_RATE"] = o => o.Emit.CanvasEmitRate,
        ["WORKQ_MAX_TRACE_BYTES"] = o => o.Traces.MaxTraceBytes,
        ["WORKQ_TRACES_PER_WORKER"] = o => o.Traces.TracesPerWorker,
        ["WORKQ_TRACES_MONGODB"] = o => o.Traces.MongoDb,
        ["WORKQ_EVENT_STATUS"] = o => o.EventStatus.Enabled,
        ["WORKQ_EVENT_STATUS_RETENTION_HOURS"] = o => o.EventStatus.Retention,
        ["WORKQ_BATCH_RETENTION_HOURS"] = o => o.EventStatus.BatchRetention,
        ["WORKQ_MAX_EVENT_WAITS"] = o => o.EventStatus.MaxWaits,
        ["WORKQ_MAX_UNHANDLED_PER_WORKER"] = o => o.Retention.MaxUnhandledPerWorker,
        ["WORKQ_MAX_DEAD_LETTERS_PER_WORKER"] = o => o.Retention.MaxDeadLettersPerWorker,
        ["WORKQ_METRICS_MINUTE_RETENTION_HOURS"] = o => o.Retention.MetricsMinuteRetention,
        ["WORKQ_METRICS_HOUR_RETENTION_DAYS"] = o => o.Retention.MetricsHourRetention,
        ["WORKQ_COMPILE_TIMEOUT_SECONDS"] = o => o.Compiler.CompileTimeout,
        ["WORKQ_MAX_CODE_BYTES"] = o => o.Compiler.MaxCodeBytes,
        ["WORKQ_MAX_CONCURRENT_COMPILES"] = o => o.Compiler.MaxConcurrentCompiles,
        ["WORKQ_COMPILER_HEAP_MB"] = o => o.Compiler.CompilerHeapMegabytes,
        ["WORKQ_ISOLATION"] = o => o.Handlers.Isolation,
        ["WORKQ_SANDBOX"] = o => o.Handlers.Sandbox,
        ["WORKQ_HANDLER_TIMEOUT_SECONDS"] = o => o.Handlers.HandlerTimeout,
        ["WORKQ_RUNNER_IDLE_SECONDS"] = o => o.Handlers.RunnerIdle,
        ["WORKQ_CANCEL_GRACE_SECONDS"] = o => o.Handlers.CancelGrace,
        ["WORKQ_RUNNER_MEMORY_MB"] = o => o.Handlers.RunnerMemoryMegabytes,
        ["WORKQ_RUNNER_THREADS"] = o => o.Handlers.RunnerThreads,
        ["WORKQ_RUNNER_CPUS"] = o => o.Handlers.RunnerCpus,
        ["WORKQ_RUNNER_PIDS"] = o => o.Handlers.RunnerPids,
        ["WORKQ_HANDLER_HTTP_MAX_BYTES"] = o => o.Handlers.HandlerHttpMaxBytes,
        ["WORKQ_HANDLER_HTTP_CONCURRENCY"] = o => o.Handlers.HandlerHttpConcurrency,
        ["WORKQ_HANDLER_HTTP_ALLOW"] = o => o.Handlers.HandlerEgress.AllowsHost("billing.internal"),
        ["WORKQ_CANVASES"] = o => string.Join(",", o.Pool.Canvases.Patterns),
        ["WORKQ_RECONCILE_INTERVAL_SECONDS"] = o => o.Pool.ReconcileInterval,
        ["WORKQ_PRIORITY_AGING_SECONDS"] = o => o.Priorities.Aging,
    };

    private static string Text(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    [Theory]
    [InlineData("WORKQ_HOST", "127.0.0.1", "0.0.0.0", "0.0.0.0")]
    [InlineData("WORKQ_PORT", "8080", "9000", "9000")]
    [InlineData("WORKQ_POSTGRES", "Host=127.0.0.1;Port=5432;Username=workq;Password=workq;Database=workq",
        "Host=db", "Host=db")]
    [InlineData("WORKQ_ADMIN_TOKEN", "", "an-admin-token-of-some-length", "an-admin-token-of-some-length")]
    [InlineData("WORKQ_RABBITMQ_URL", "127.0.0.1:5672", "amqp://u:p@rmq:5673/v", "rmq:5673")]
    [InlineData("WORKQ_RABBITMQ_MANAGEMENT_URL", "127.0.0.1:15672", "http://u:p@rmq:15673/", "rmq:15673")]
    [InlineData("WORKQ_PUBLISH_TIMEOUT_SECONDS", "00:00:05", "2.5", "00:00:02.5000000")]
    [InlineData("WORKQ_MAX_EVENT_BYTES", "262144", "1000", "1000")]
    [InlineData("WORKQ_MAX_STEP_BYTES", "262144", "1000", "1000")]
    [InlineData("WORKQ_MAX_EMIT_DEPTH", "1000", "5", "5")]
    [InlineData("WORKQ_MAX_EMITS_PER_EVENT", "1000", "6", "6")]
    [InlineData("WORKQ_MAX_QUEUED_PER_WORKER", "1000000", "7", "7")]
    [InlineData("WORKQ_MAX_SCHEDULED_PER_WORKER", "100000", "8", "8")]
    [InlineData("WORKQ_CANVAS_EMIT_RATE", "", "5/m", "5/m,burst=5")]
    [InlineData("WORKQ_MAX_TRACE_BYTES", "65536", "1024", "1024")]
    [InlineData("WORKQ_TRACES_PER_WORKER", "10", "3", "3")]
    [InlineData("WORKQ_TRACES_MONGODB", "", "mongodb://m:27017/workq", "mongodb://m:27017/workq")]
    [InlineData("WORKQ_EVENT_STATUS", "True", "off", "False")]
    [InlineData("WORKQ_EVENT_STATUS_RETENTION_HOURS", "1.00:00:00", "2", "02:00:00")]
    [InlineData("WORKQ_BATCH_RETENTION_HOURS", "7.00:00:00", "48", "2.00:00:00")]
    [InlineData("WORKQ_MAX_EVENT_WAITS", "1000", "9", "9")]
    [InlineData("WORKQ_MAX_UNHANDLED_PER_WORKER", "10000", "3", "3")]
    [InlineData("WORKQ_MAX_DEAD_LETTERS_PER_WORKER", "10000", "4", "4")]
    [InlineData("WORKQ_METRICS_MINUTE_RETENTION_HOURS", "2.00:00:00", "3", "03:00:00")]
    [InlineData("WORKQ_METRICS_HOUR_RETENTION_DAYS", "30.00:00:00", "3", "3.00:00:00")]
    [InlineData("WORKQ_COMPILE_TIMEOUT_SECONDS", "00:00:10", "4", "00:00:04")]
    [InlineData("WORKQ_MAX_CODE_BYTES", "65536", "100", "100")]
    [InlineData("WORKQ_MAX_CONCURRENT_COMPILES", "2", "1", "1")]
    [InlineData("WORKQ_COMPILER_HEAP_MB", "512", "128", "128")]
    [InlineData("WORKQ_ISOLATION", "Canvas", "none", "None")]
    [InlineData("WORKQ_SANDBOX", "Namespaces", "off", "Off")]
    [InlineData("WORKQ_HANDLER_TIMEOUT_SECONDS", "00:01:00", "3", "00:00:03")]
    [InlineData("WORKQ_RUNNER_IDLE_SECONDS", "00:01:00", "0.5", "00:00:00.5000000")]
    [InlineData("WORKQ_CANCEL_GRACE_SECONDS", "00:00:05", "2", "00:00:02")]
    [InlineData("WORKQ_RUNNER_MEMORY_MB", "256", "64", "64")]
    [InlineData("WORKQ_RUNNER_THREADS", "64", "16", "16")]
    [InlineData("WORKQ_RUNNER_CPUS", "1", "0.5", "0.5")]
    [InlineData("WORKQ_RUNNER_PIDS", "256", "32", "32")]
    [InlineData("WORKQ_HANDLER_HTTP_MAX_BYTES", "10485760", "2048", "2048")]
    [InlineData("WORKQ_HANDLER_HTTP_CONCURRENCY", "8", "2", "2")]
    [InlineData("WORKQ_HANDLER_HTTP_ALLOW", "False", "billing.internal", "True")]
    [InlineData("WORKQ_CANVASES", "", "a, !big*", "a,!big*")]
    [InlineData("WORKQ_RECONCILE_INTERVAL_SECONDS", "00:00:10", "5", "00:00:05")]
    [InlineData("WORKQ_PRIORITY_AGING_SECONDS", "00:05:00", "2", "00:00:02")]
    public void Each_variable_has_its_default_and_lands_in_its_component(
        string variable,
        string defaultValue,
        string setting,
        string read)
    {
        Assert.Equal(defaultValue, Text(Reads[variable](Options())));
        Assert.Equal(read, Text(Reads[variable](Options((variable, setting)))));
    }

    [Fact]
    public void The_table_above_holds_every_variable_the_components_read()
    {
        var renamed = RenamedSetting.All.Select(r => r.OldName).ToHashSet();
        var read = Directory.EnumerateFiles(
                Path.Combine(RepoPaths.Root, "shared", "Workq.Shared", "Configuration"),
                "*Options.cs")
            .Append(Path.Combine(RepoPaths.Root, "shared", "Workq.Shared", "Configuration", "EmitLimits.cs"))
            .SelectMany(file => WorkqVariable().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
            .Where(name => !renamed.Contains(name))
            .Append("WORKQ_HANDLER_HTTP_ALLOW")
            .ToHashSet();
        Assert.Equal(read.Order(), Reads.Keys.Order());
    }

    [Theory]
    [InlineData("WORKQ_PORT", "http")]
    [InlineData("WORKQ_PUBLISH_TIMEOUT_SECONDS", "0")]
    [InlineData("WORKQ_MAX_EVENT_BYTES", "-1")]
    [InlineData("WORKQ_MAX_QUEUED_PER_WORKER", "1e6")]
    [InlineData("WORKQ_TRACES_PER_WORKER", "ten")]
    [InlineData("WORKQ_EVENT_STATUS_RETENTION_HOURS", "1.5")]
    [InlineData("WORKQ_MAX_DEAD_LETTERS_PER_WORKER", "0")]
    [InlineData("WORKQ_COMPILER_HEAP_MB", "512MB")]
    [InlineData("WORKQ_RUNNER_CPUS", "-2")]
    [InlineData("WORKQ_RECONCILE_INTERVAL_SECONDS", "soon")]
    [InlineData("WORKQ_RABBITMQ_URL", "http://rmq:5672/")]
    [InlineData("WORKQ_TRACES_MONGODB", "postgres://db")]
    [InlineData("WORKQ_EVENT_STATUS", "yes")]
    [InlineData("WORKQ_ISOLATION", "process")]
    [InlineData("WORKQ_CANVAS_EMIT_RATE", "fast")]
    public void A_bad_value_stops_the_start_naming_its_variable(string variable, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Options((variable, value)));
        Assert.StartsWith(variable, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WORKQ_UNHANDLED_MAX_PER_WORKER", "WORKQ_MAX_UNHANDLED_PER_WORKER")]
    [InlineData("WORKQ_DEAD_LETTERS_MAX_PER_WORKER", "WORKQ_MAX_DEAD_LETTERS_PER_WORKER")]
    [InlineData("WORKQ_EVENT_STATUS_HOURS", "WORKQ_EVENT_STATUS_RETENTION_HOURS")]
    [InlineData("WORKQ_RECONCILE_SECONDS", "WORKQ_RECONCILE_INTERVAL_SECONDS")]
    public void An_old_name_sets_its_new_one_and_its_errors_name_the_old_one(string oldName, string newName)
    {
        Assert.Equal(Text(Reads[newName](Options((newName, "3")))), Text(Reads[newName](Options((oldName, "3")))));
        Assert.NotEqual(Text(Reads[newName](Options())), Text(Reads[newName](Options((oldName, "3")))));
        var error = Assert.Throws<InvalidOperationException>(() => Options((oldName, "none")));
        Assert.StartsWith($"{oldName} must be a positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_component_reads_its_own_variables_alone()
    {
        var config = Config(
            ("WORKQ_PORT", "9001"),
            ("WORKQ_PUBLISH_TIMEOUT_SECONDS", "2"),
            ("WORKQ_MAX_EMIT_DEPTH", "4"),
            ("WORKQ_TRACES_PER_WORKER", "5"),
            ("WORKQ_MAX_EVENT_WAITS", "6"),
            ("WORKQ_MAX_UNHANDLED_PER_WORKER", "7"),
            ("WORKQ_MAX_CODE_BYTES", "8"),
            ("WORKQ_RUNNER_THREADS", "9"),
            ("WORKQ_CANVASES", "only"));
        Assert.Equal(9001, ServiceOptions.From(config, defaultPort: 8080).Port);
        Assert.Equal(8081, ServiceOptions.From(Config(), defaultPort: 8081).Port);
        Assert.Equal(TimeSpan.FromSeconds(2), BrokerOptions.From(config).PublishTimeout);
        Assert.Equal(4, EmitLimits.From(config).MaxEmitDepth);
        Assert.Equal(5, TraceStoreOptions.From(config).TracesPerWorker);
        Assert.Equal(6, EventStatusOptions.From(config).MaxWaits);
        Assert.Equal(7, RetentionOptions.From(config).MaxUnhandledPerWorker);
        Assert.Equal(8, CompilerOptions.From(config).MaxCodeBytes);
        Assert.Equal(9, HandlerOptions.From(config).RunnerThreads);
        Assert.Equal(["only"], PoolOptions.From(config).Canvases.Patterns);
    }

    [Fact]
    public void The_registration_gives_each_component_and_not_the_aggregate()
    {
        var services = new ServiceCollection();
        var options = services.AddWorkqOptions(Config(("WORKQ_MAX_EMIT_DEPTH", "3")), defaultPort: 8082);
        using var provider = services.BuildServiceProvider();
        Assert.Equal(3, provider.GetRequiredService<EmitLimits>().MaxEmitDepth);
        Assert.Equal(8082, provider.GetRequiredService<ServiceOptions>().Port);
        object[] components =
        [
            options.Service, options.Broker, options.Emit, options.Traces, options.EventStatus, options.Retention,
            options.Compiler, options.Handlers, options.Pool, options.Priorities,
        ];
        foreach (var component in components)
            Assert.Same(component, provider.GetRequiredService(component.GetType()));
        Assert.Equal(
            typeof(WorkqOptions).GetProperties().Select(p => p.PropertyType).Order(TypeNames.Instance),
            components.Select(c => c.GetType()).Order(TypeNames.Instance));
        Assert.Null(provider.GetService<WorkqOptions>());
    }

    [Fact]
    public void No_service_class_or_route_takes_the_aggregate()
    {
        // The aggregate is not registered: a constructor that asked for it would fail to resolve, and a minimal API
        // route would read it from the request body.
        Type[] anchors =
        [
            typeof(WorkqOptions), typeof(Workq.Worker.Isolation.RunnerPool), typeof(Workq.Control.Apis.MetricsApi),
            typeof(Workq.Emitter.Emitting.EventEmitter),
        ];
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
            | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var takers = anchors.Select(anchor => anchor.Assembly).Distinct()
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetConstructors(all).Cast<MethodBase>().Concat(type.GetMethods(all)))
            .Where(method => method.GetParameters().Any(p => p.ParameterType == typeof(WorkqOptions)))
            .Select(method => $"{method.DeclaringType!.Name}.{method.Name}")
            .ToList();
        // At start, where the worker's handler host is put together from three components.
        Assert.Equal(["HandlerHostSetup.AddHandlerHostAsync"], takers);
    }

    [GeneratedRegex("\"(WORKQ_[A-Z_]+)\"")]
    private static partial Regex WorkqVariable();

    private sealed class TypeNames : IComparer<Type>
    {
        public static readonly TypeNames Instance = new();

        public int Compare(Type? x, Type? y) => string.CompareOrdinal(x?.FullName, y?.FullName);
    }
}
