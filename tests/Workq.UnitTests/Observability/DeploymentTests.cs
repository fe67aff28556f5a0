using System.Text.RegularExpressions;
using Workq.Shared.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Workq.UnitTests.Observability;

/// <summary>
/// No container engine runs here, so docker-compose.yml, the Dockerfile, the collector, Prometheus and
/// Grafana files and the k8s manifests are checked for what can go wrong without one: they parse, and
/// they agree with the code and with each other.
/// </summary>
public sealed partial class DeploymentTests
{
    private static readonly string[] Services = ["control", "emitter", "dispatcher", "worker"];
    private static readonly Dictionary<string, int> Ports = new()
    {
        ["control"] = 8080,
        ["emitter"] = 8081,
        ["dispatcher"] = 8082,
        ["worker"] = 8083
    };
    /// <summary>What has no usable default outside a developer machine.</summary>
    private static readonly string[] Required
        = ["WORKQ_HOST", "WORKQ_RABBITMQ_URL", "WORKQ_RABBITMQ_MANAGEMENT_URL", "WORKQ_POSTGRES", "WORKQ_ADMIN_TOKEN"];

    private static string Repo(string path) => Path.Combine(RepoPaths.Root, path);

    /// <summary>Every WORKQ_* variable the services read (the options components' keys and any other).</summary>
    private static readonly HashSet<string> CodeKeys = Directory.EnumerateFiles(
        Repo("shared"),
        "*.cs",
        SearchOption.AllDirectories)
        .Concat(Directory.EnumerateFiles(Repo("services"), "*.cs", SearchOption.AllDirectories))
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
        .SelectMany(f => WorkqKey().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value)).ToHashSet();

    [GeneratedRegex("\"(WORKQ_[A-Z_]+)\"")]
    private static partial Regex WorkqKey();

    private static object? Yaml(string text)
        => new DeserializerBuilder().Build().Deserialize(new MergingParser(new Parser(new StringReader(text))));

    private static List<Dictionary<object, object?>> YamlDocuments(string text)
    {
        var parser = new MergingParser(new Parser(new StringReader(text)));
        var deserializer = new DeserializerBuilder().Build();
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        var documents = new List<Dictionary<object, object?>>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
            if (deserializer.Deserialize<Dictionary<object, object?>>(parser) is { } document) documents.Add(document);
        return documents;
    }

    private static Dictionary<object, object?> Map(object? node, string what) =>
        node as Dictionary<object, object?> ?? throw new Xunit.Sdk.XunitException($"{what} is not a mapping");

    private static object? At(object? node, params string[] path)
    {
        foreach (var key in path) node = node is Dictionary<object, object?> map && map.TryGetValue(key, out var next)
            ? next
            : null;
        return node;
    }

    private static IEnumerable<object?> List(object? node) => node as List<object?> ?? [];

    /// <summary>
    /// What may never appear in a shipped file: the development admin token and the old shipped passwords.
    /// </summary>
    private static void AssertNoShippedSecret(string file, string text)
    {
        Assert.DoesNotContain(ServiceOptions.DevelopmentAdminToken, text);
        Assert.DoesNotContain("change-me", text);
        Assert.DoesNotMatch(@"(?i)(default_pass|password)\s*[:=]\s*(workq|guest)\b", text);
        Assert.DoesNotMatch("workq:workq@|guest:guest@", text);
        // Every password in a URL or connection string is a reference, never a value.
        foreach (Match password in Regex.Matches(text, @"(?i)(?<=Password=)[^;\s]+|(?<=://[^:/@\s]+:)[^@\s]+(?=@)"))
            Assert.True(
                password.Value.StartsWith("${") || password.Value.StartsWith("$("),
                $"{file}: a literal password '{password.Value}'");
    }

    /// <summary>
    /// The one command that creates the Secret the manifests expect, as the README and 01-config.yaml give it.
    /// </summary>
    private static string SecretCommand(string text) =>
        Regex.Match(text, @"kubectl -n workq create secret generic workq-secrets[^\n]*")
            .Value is { Length: > 0 } command ? command
            : throw new Xunit.Sdk.XunitException(
                "no `kubectl -n workq create secret generic workq-secrets ...` command");

    [Fact]
    public void The_code_reads_the_variables_the_deployments_must_set() =>
        Assert.Subset(CodeKeys, Required.ToHashSet());

    [Fact]
    public void Compose_runs_the_four_services_from_source_with_their_settings_and_readiness()
    {
        var services = Map(At(Yaml(File.ReadAllText(Repo("docker-compose.yml"))), "services"), "services");
        foreach (var name in new[] {
            "rabbitmq",
            "postgres",
            "otel-collector",
            "jaeger",
            "prometheus",
            "grafana" }) Assert.True(services.ContainsKey(name), name);
        Assert.Contains("management", (string)At(services, "rabbitmq", "image")!);
        Assert.StartsWith("postgres:15", (string)At(services, "postgres", "image")!);

        foreach (var name in Services)
        {
            var service = services[name];
            var dockerfile = (string)At(service, "build", "dockerfile")!;
            Assert.True(File.Exists(Repo(dockerfile)), dockerfile);
            var (folder, dll) = (At(service, "build", "args", "SERVICE"), At(service, "build", "args", "ASSEMBLY"));
            var project = $"services/{folder}/{dll}.csproj";
            Assert.True(File.Exists(Repo(project)), $"{name}: {project}");

            var environment = Map(At(service, "environment"), $"{name} environment").ToDictionary(
                e => (string)e.Key,
                e => e.Value?.ToString() ?? "");
            Assert.Superset(Required.ToHashSet(), environment.Keys.ToHashSet());
            Assert.Subset(CodeKeys, environment.Keys.Where(k => k.StartsWith("WORKQ_")).ToHashSet());
            Assert.Equal("0.0.0.0", environment["WORKQ_HOST"]);
            Assert.Equal(Ports[name].ToString(), environment["WORKQ_PORT"]);
            Assert.Equal($"workq-{name}", environment["OTEL_SERVICE_NAME"]);
            // Hosts named in the connection settings are services of this file.
            Assert.Contains("@rabbitmq:5672", environment["WORKQ_RABBITMQ_URL"]);
            Assert.Contains("@rabbitmq:15672", environment["WORKQ_RABBITMQ_MANAGEMENT_URL"]);
            Assert.Contains("Host=postgres;", environment["WORKQ_POSTGRES"]);
            Assert.Equal("http://otel-collector:4318", environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Contains("/readyz", string.Join(" ", List(At(service, "healthcheck", "test"))));
            foreach (var dependency in Map(At(service, "depends_on"), $"{name} depends_on").Keys) Assert.True(
                services.ContainsKey(dependency),
                $"{name} depends on {dependency}");
            foreach (var port in List(At(service, "ports"))) Assert.Equal($"{Ports[name]}:{Ports[name]}", port);
        }
        Assert.Equal("2", At(services, "worker", "deploy", "replicas")!.ToString());
        Assert.Null(At(services, "worker", "ports"));

        // Traces in MongoDB (optional in the code, on in compose): control and the workers, never the others.
        Assert.StartsWith("mongo:7", (string)At(services, "mongodb", "image")!);
        foreach (var name in Services)
        {
            var mongo = At(services, name, "environment", "WORKQ_TRACES_MONGODB") as string;
            if (name is "control" or "worker")
            {
                Assert.StartsWith("mongodb://mongodb:27017/", mongo);
                Assert.True(
                    Map(At(services, name, "depends_on"), $"{name} depends_on").ContainsKey("mongodb"),
                    $"{name} depends on mongodb");
            }
            else Assert.Null(mongo);
        }

        // A volume is a file of the repo mounted in, or a named volume the file declares.
        var named = Map(
            At(Yaml(File.ReadAllText(Repo("docker-compose.yml"))), "volumes") ?? new Dictionary<object, object?>(),
            "volumes");
        foreach (var (name, service) in services)
            foreach (var volume in List(At(service, "volumes")).Cast<string>())
                Assert.True(
                    named.ContainsKey(volume.Split(':')[0]) || Path.Exists(Repo(volume.Split(':')[0])),
                    $"{name} mounts {volume}");
    }

    [Fact]
    public void Compose_ships_no_password_and_requires_the_token_and_every_password()
    {
        var text = File.ReadAllText(Repo("docker-compose.yml"));
        AssertNoShippedSecret("docker-compose.yml", text);
        var services = Map(At(Yaml(text), "services"), "services");
        static void Required(string? value, string variable) =>
            Assert.Matches($@"\$\{{{variable}:\?[^}}]+\}}", value ?? "");

        // The servers' administrators are the images' own users; the services' narrower users are made from them.
        Required(
            (string?)At(services, "rabbitmq", "environment", "RABBITMQ_DEFAULT_PASS"),
            "WORKQ_RABBITMQ_ADMIN_PASSWORD");
        Required(
            (string?)At(services, "postgres", "environment", "POSTGRES_PASSWORD"),
            "WORKQ_POSTGRES_ADMIN_PASSWORD");
        Required(
            (string?)At(services, "postgres", "environment", "WORKQ_POSTGRES_PASSWORD"),
            "WORKQ_POSTGRES_PASSWORD");
        Required(string.Join(" ", List(At(services, "rabbitmq-users", "command"))), "WORKQ_RABBITMQ_PASSWORD");
        foreach (var name in Services)
        {
            var environment = Map(At(services[name], "environment"), $"{name} environment").ToDictionary(
                e => (string)e.Key,
                e => e.Value?.ToString() ?? "");
            Assert.Matches(@"^\$\{WORKQ_ADMIN_TOKEN:\?[^}]+\}$", environment["WORKQ_ADMIN_TOKEN"]);
            Required(environment["WORKQ_RABBITMQ_URL"], "WORKQ_RABBITMQ_PASSWORD");
            Required(environment["WORKQ_RABBITMQ_MANAGEMENT_URL"], "WORKQ_RABBITMQ_PASSWORD");
            Required(environment["WORKQ_POSTGRES"], "WORKQ_POSTGRES_PASSWORD");
            Assert.StartsWith("amqp://workq:", environment["WORKQ_RABBITMQ_URL"]);
            Assert.Contains("Username=workq;", environment["WORKQ_POSTGRES"]);
            Assert.True(
                Map(At(services[name], "depends_on"), $"{name} depends_on").ContainsKey("rabbitmq-users"),
                $"{name} waits for its broker user");
        }
        Assert.NotEqual("workq", At(services, "rabbitmq", "environment", "RABBITMQ_DEFAULT_USER"));
        Assert.NotEqual("workq", At(services, "postgres", "environment", "POSTGRES_USER"));
        Assert.Contains("tags=management", string.Join(" ", List(At(services, "rabbitmq-users", "command"))));
        var init = File.ReadAllText(Repo("deploy/postgres-init.sh"));
        Assert.Contains("create role workq login nosuperuser nocreatedb nocreaterole", init);
        Assert.Contains("create database workq owner workq", init);
        Assert.Contains(".env", File.ReadAllLines(Repo(".gitignore")));
    }

    [Fact]
    public void Kubernetes_ships_no_password_and_reads_the_user_created_and_the_generated_secrets()
    {
        foreach (var file in Directory
            .EnumerateFiles(Repo("k8s"), "*.yaml")) AssertNoShippedSecret(file, File.ReadAllText(file));
        var documents = Directory.EnumerateFiles(Repo("k8s"), "*.yaml")
            .SelectMany(f => YamlDocuments(File.ReadAllText(f)))
            .ToList();
        Assert.DoesNotContain(documents, d => (string?)d.GetValueOrDefault("kind") == "Secret");
        // The command is the same in the manifest's comment and in the README, and sets the token from a generator.
        var command = SecretCommand(File.ReadAllText(Repo("k8s/01-config.yaml")));
        Assert.Equal(command, SecretCommand(File.ReadAllText(Repo("README.md"))));
        Assert.Contains("--from-literal=WORKQ_ADMIN_TOKEN=\"$(openssl rand", command);
        Assert.Null(At(
            documents.Single(d => (string?)d.GetValueOrDefault("kind") == "RabbitmqCluster"),
            "spec",
            "rabbitmq",
            "additionalConfig"));
        Assert.Null(At(
            documents.Single(d => (string?)d.GetValueOrDefault("kind") == "Cluster"),
            "spec",
            "bootstrap",
            "initdb",
            "secret"));

        // The services' broker user: the management tag and the "/" virtual host, its Secret generated from its name.
        var user = documents.Single(d => (string?)d.GetValueOrDefault("kind") == "User");
        Assert.Equal(["management"], List(At(user, "spec", "tags")));
        var permission = documents.Single(d => (string?)d.GetValueOrDefault("kind") == "Permission");
        Assert.Equal(
            ("/", At(user, "metadata", "name")),
            (At(permission, "spec", "vhost"), At(permission, "spec", "userReference", "name")));

        // Secrets read: the user's, and those the operators generate for the services' broker user and database owner.
        var expected = new HashSet<string> {
            "workq-secrets",
            $"{At(user, "metadata", "name")}-user-credentials",
            "workq-postgres-app" };
        var text = string.Join("\n", Directory.EnumerateFiles(Repo("k8s"), "*.yaml").Select(File.ReadAllText));
        var referenced = Regex.Matches(text, @"secret(?:Key)?Ref: \{ name: ([a-z-]+)").Select(m => m.Groups[1].Value)
            .Concat(documents.Where(d => (string?)d.GetValueOrDefault("kind") == "TriggerAuthentication")
                .SelectMany(a => List(At(a, "spec", "secretTargetRef")).Select(r => (string)At(r, "name")!)))
            .ToHashSet();
        Assert.Equal(expected, referenced);
    }

    [Fact]
    public void The_Dockerfile_copies_what_exists_and_runs_as_a_non_root_user()
    {
        var dockerfile = File.ReadAllText(Repo("deploy/Dockerfile"));
        foreach (var copy in Regex.Matches(dockerfile, @"^COPY (?!--from)(.+) \S+$", RegexOptions.Multiline)
            .SelectMany(m => m.Groups[1].Value.Split(' ')))
        {
            foreach (var service in Services)
            {
                var path = copy.Replace("${SERVICE}", service);
                Assert.True(Path.Exists(Repo(path)), path);
            }
        }
        // The build reads these too: an image built without them would silently lose their settings.
        foreach (var props in Directory.GetFiles(Repo("services"), "Directory.Build.props"))
            Assert.Contains($"COPY services/{Path.GetFileName(props)} services/", dockerfile);
        Assert.Matches(@"(?m)^USER \$APP_UID$", dockerfile);
        Assert.Contains("WORKQ_HOST=0.0.0.0", dockerfile);
    }

    [Fact]
    public void The_collector_Prometheus_and_Grafana_agree_with_each_other_and_the_instruments()
    {
        var collector = Map(Yaml(File.ReadAllText(Repo("deploy/otel-collector.yaml"))), "collector");
        foreach (var (signal, pipeline) in Map(At(collector, "service", "pipelines"), "pipelines"))
            foreach (var part in new[] { "receivers", "processors", "exporters" })
                foreach (var component in List(At(pipeline, part)))
                    Assert.True(
                        Map(collector[part], part).ContainsKey(component!),
                        $"{signal} uses undefined {part}/{component}");
        var prometheusPort = ((string)At(collector, "exporters", "prometheus", "endpoint")!).Split(':')[1];
        var scrape = Yaml(File.ReadAllText(Repo("deploy/prometheus.yml")));
        Assert.Equal($"otel-collector:{prometheusPort}", List(
            At(List(At(List(At(scrape, "scrape_configs")).Single(), "static_configs")).Single(), "targets")).Single());

        var instruments = Regex.Matches(File.ReadAllText(Repo("shared/Workq.Shared/Telemetry/WorkqDiagnostics.cs"))
            + File.ReadAllText(Repo("services/control/Stats/QueueDepthGauge.cs")),
            "\"(workq\\.[a-z_.]+)\"").Select(m => m.Groups[1].Value.Replace('.', '_')).ToHashSet();
        var dashboard = JsonNode.Parse(File.ReadAllText(Repo("deploy/grafana/dashboards/workq.json")))!;
        var used = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray())
            .Select(t => t!["expr"]!.GetValue<string>())
            .SelectMany(expr => Regex.Matches(expr, @"\bworkq_[a-z_]+").Select(m => m.Value))
            .ToHashSet();
        Assert.NotEmpty(used);
        // Prometheus names: the instrument name, then the unit (ms -> milliseconds) and _total/_bucket.
        foreach (var metric in used)
            Assert.Contains(Regex.Replace(metric, "(_milliseconds)?(_total|_bucket)?$", ""), instruments);
        Assert.Contains(
            "prometheus",
            File.ReadAllText(Repo("deploy/grafana/provisioning/datasources/prometheus.yaml")));
    }

    [Fact]
    public void Kubernetes_deployments_set_every_required_variable_probe_health_and_readiness_and_split_worker_pools()
    {
        var documents = Directory.EnumerateFiles(Repo("k8s"), "*.yaml").Order()
            .SelectMany(f => YamlDocuments(File.ReadAllText(f)))
            .ToList();
        IEnumerable<Dictionary<object, object?>> Kind(string kind)
            => documents.Where(d => (string?)d.GetValueOrDefault("kind") == kind);
        string NameOf(object? document) => (string)At(document, "metadata", "name")!;
        IEnumerable<string> Keys(string kind, string name, string field) =>
            Map(At(Kind(kind).Single(d => NameOf(d) == name), field), $"{kind} {name}").Keys.Cast<string>();

        Assert.Single(Kind("Namespace"));
        Assert.Equal("3", At(Kind("RabbitmqCluster").Single(), "spec", "replicas")!.ToString());
        Assert.Single(Kind("Cluster"), c => ((string)c["apiVersion"]!).StartsWith("postgresql.cnpg.io"));

        var deployments = Kind("Deployment").Where(d => ((string)At(
            List(At(d, "spec", "template", "spec", "containers")).First(),
            "image")!).StartsWith("workq/")).ToList();
        Assert.Equal(Services.ToHashSet(), deployments.Select(
            d => (string)At(d, "spec", "template", "metadata", "labels", "workq/service")!).ToHashSet());
        var pools = new Dictionary<string, CanvasFilter>();
        foreach (var deployment in deployments)
        {
            var name = NameOf(deployment);
            var container = List(At(deployment, "spec", "template", "spec", "containers")).Single();
            var variables = List(At(container, "env")).ToDictionary(
                e => (string)At(e, "name")!,
                e => At(e, "value")?.ToString());
            foreach (var source in List(At(container, "envFrom")))
            {
                if (At(source, "configMapRef", "name") is string map) foreach (var key in Keys(
                    "ConfigMap",
                    map,
                    "data")) variables.TryAdd(key, null);
                // workq-secrets is created by the user (01-config.yaml): its keys are those of the documented command.
                if (At(source, "secretRef", "name") is "workq-secrets")
                    foreach (Match key in Regex.Matches(
                        SecretCommand(File.ReadAllText(Repo("k8s/01-config.yaml"))),
                        "--from-literal=([A-Z_]+)="))
                        variables.TryAdd(key.Groups[1].Value, null);
            }
            Assert.Superset(Required.ToHashSet(), variables.Keys.ToHashSet());
            Assert.Subset(CodeKeys, variables.Keys.Where(k => k.StartsWith("WORKQ_")).ToHashSet());
            // Kubernetes expands $(NAME) only from variables defined before it in the same list.
            var defined = new HashSet<string>();
            foreach (var entry in List(At(container, "env")))
            {
                foreach (Match reference in Regex.Matches(At(entry, "value")?.ToString() ?? "", @"\$\(([A-Z_]+)\)"))
                    Assert.True(
                        defined.Contains(reference.Groups[1].Value),
                        $"{name}: $({reference.Groups[1].Value}) is used before it is defined");
                defined.Add((string)At(entry, "name")!);
            }
            var port = int.Parse(variables["WORKQ_PORT"]!);
            Assert.Equal("/readyz", At(container, "readinessProbe", "httpGet", "path"));
            Assert.Equal("/healthz", At(container, "livenessProbe", "httpGet", "path"));
            Assert.Equal(port.ToString(), At(container, "readinessProbe", "httpGet", "port")!.ToString());
            Assert.Equal(port.ToString(), At(container, "livenessProbe", "httpGet", "port")!.ToString());
            Assert.NotNull(At(container, "resources", "requests", "cpu"));
            Assert.NotNull(At(container, "resources", "requests", "memory"));
            if (variables.TryGetValue("WORKQ_CANVASES", out var canvases)) pools[name] = CanvasFilter.Parse(canvases);
        }
        foreach (var service in Kind("Service"))
            Assert.Contains(Kind("Deployment"), d => NameOf(d) == (string)At(service, "spec", "selector", "app")!);

        // Two worker pools, and every canvas belongs to exactly one: the big one to its own.
        Assert.Equal(2, pools.Count);
        foreach (var canvas in new[] {
            "bigshop",
            "shop",
            "big",
            "bigshop2" }) Assert.Single(pools, p => p.Value.Matches(canvas));
        Assert.True(pools["worker-bigshop"].Matches("bigshop"));

        // KEDA scales each pool on the queues of the canvases it consumes.
        var scaled = Kind("ScaledObject").ToDictionary(
            s => (string)At(s, "spec", "scaleTargetRef", "name")!,
            s => List(At(s, "spec", "triggers")).Single());
        Assert.Equal(pools.Keys.ToHashSet(), scaled.Keys.ToHashSet());
        foreach (var (pool, trigger) in scaled)
        {
            Assert.Equal("rabbitmq", At(trigger, "type"));
            var queues = new Regex((string)At(trigger, "metadata", "queueName")!);
            foreach (var canvas in new[] { "bigshop", "shop", "big", "bigshop2" })
                Assert.Equal(pools[pool].Matches(canvas), queues.IsMatch($"workq.worker.{canvas}.w"));
            Assert.Contains(
                Kind("TriggerAuthentication"),
                a => NameOf(a) == (string)At(trigger, "authenticationRef", "name")!);
        }
    }
}
