using System.Net.Sockets;
using Workq.Shared.Handlers.Scripting;

namespace Workq.UnitTests.Scripting;

/// <summary>The egress policy judges addresses only: these tests never open a connection.</summary>
public sealed class EgressPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::127.0.0.1", "loopback")]
    [InlineData("64:ff9b::7f00:1", "loopback")]
    [InlineData("2002:7f00:1::", "loopback")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("::ffff:192.168.1.1", "private")]
    [InlineData("fd00::1", "private")]
    [InlineData("fc00::1", "private")]
    [InlineData("100.64.0.1", "shared")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    public void Internal_addresses_are_refused_by_default(string address, string rule)
    {
        var refusal = EgressPolicy.Default.Refusal(IPAddress.Parse(address));

        Assert.NotNull(refusal);
        Assert.Contains(rule, refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:1.1.1.1")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.Null(EgressPolicy.Default.Refusal(IPAddress.Parse(address)));

    [Fact]
    public void Allow_list_opens_chosen_networks_addresses_and_names_only()
    {
        var policy = EgressPolicy.Parse(" 10.20.0.0/16, 127.0.0.2 ,api.internal, *.svc.cluster.local, fd12::/16");

        Assert.Null(policy.Refusal(IPAddress.Parse("10.20.3.4")));
        Assert.Null(policy.Refusal(IPAddress.Parse("::ffff:10.20.3.4")));
        Assert.Null(policy.Refusal(IPAddress.Parse("127.0.0.2")));
        Assert.Null(policy.Refusal(IPAddress.Parse("fd12::5")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("10.21.0.1")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("127.0.0.1")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("fd13::5")));
        Assert.True(policy.AllowsHost("API.internal."));
        Assert.True(policy.AllowsHost("db.ns.svc.cluster.local"));
        Assert.False(policy.AllowsHost("svc.cluster.local.evil.example"));
        Assert.False(policy.AllowsHost("internal"));
        Assert.False(EgressPolicy.Default.AllowsHost("localhost"));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host!")]
    [InlineData("*.")]
    public void A_bad_allow_entry_is_named(string entry)
    {
        var error = Assert.Throws<InvalidOperationException>(() => EgressPolicy.Parse($"10.0.0.0/8,{entry}"));

        Assert.Contains(EgressPolicy.AllowVariable, error.Message, StringComparison.Ordinal);
        Assert.Contains(entry, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("0.0.0.0")]
    public async Task Http_to_a_refused_destination_fails_before_it_connects(string host)
    {
        // A listener on loopback that must never see a connection.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = new HandlerHttp(EgressPolicy.Default);
        using var client = http.For("attacker")();

        var url = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[')
            ? $"http://[{host}]:{port}/"
            : $"http://{host}:{port}/";
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url));

        Assert.Contains("refused by the egress policy", error.Message, StringComparison.Ordinal);
        Assert.Contains(EgressPolicy.AllowVariable, error.Message, StringComparison.Ordinal);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task A_name_resolving_to_loopback_is_refused_after_resolution()
    {
        using var http = new HandlerHttp(EgressPolicy.Default);
        using var client = http.For("attacker")();

        var error = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.GetAsync("http://localhost:15672/api/overview"));

        Assert.Contains("refused by the egress policy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_machines_own_name_is_refused_whatever_it_resolves_to()
    {
        // Loopback where /etc/hosts says so, an interface's address in a container: both are the machine itself.
        var name = Dns.GetHostName();
        bool resolves;
        try
        {
            resolves = (await Dns.GetHostAddressesAsync(name)).Length > 0;
        }
        catch (SocketException)
        {
            resolves = false;
        }
        using var http = new HandlerHttp(EgressPolicy.Default);
        using var client = http.For("attacker")();

        var error = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.GetAsync($"http://{name}:15672/api/overview"));

        if (resolves) Assert.Contains("refused by the egress policy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_machines_own_interface_addresses_are_refused()
    {
        var own = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToList();

        Assert.NotEmpty(own);
        Assert.All(own, address => Assert.NotNull(EgressPolicy.Default.Refusal(address)));
    }

    [Fact]
    public async Task An_allowed_destination_is_reached()
    {
        using var listener = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = new HandlerHttp(EgressPolicy.Parse("127.0.0.2/32"));
        using var client = http.For("trusted")();

        var request = client.GetStringAsync($"http://127.0.0.2:{port}/");
        using (var accepted = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10)))
        await using (var stream = accepted.GetStream())
        {
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer);
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray());
        }

        Assert.Equal("ok", await request.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
