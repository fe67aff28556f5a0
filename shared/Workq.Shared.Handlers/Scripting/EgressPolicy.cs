using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// Where a handler's <c>Http</c> may connect. Every address a connection is about to use is checked after
/// resolution, so a public name that resolves to an internal address (DNS rebinding) is refused like the
/// address itself. Refused by default: loopback, link-local (cloud metadata lives at 169.254.169.254),
/// private and shared ranges, multicast, unspecified and reserved addresses. <c>WORKQ_HANDLER_HTTP_ALLOW</c>
/// (a comma-separated list of CIDRs, addresses and host names, <c>*.example.internal</c> for a suffix)
/// opens chosen destinations on purpose.
/// </summary>
public sealed class EgressPolicy
{
    public const string AllowVariable = "WORKQ_HANDLER_HTTP_ALLOW";

    private sealed record Rule(IPNetwork Network, string Name);

    private static readonly Rule[] Refused =
    [
        new(IPNetwork.Parse("0.0.0.0/8"), "an unspecified address"),
        new(IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        new(IPNetwork.Parse("169.254.0.0/16"), "a link-local address (where cloud metadata lives)"),
        new(IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        new(IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        new(IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        new(IPNetwork.Parse("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
        new(IPNetwork.Parse("192.0.0.0/24"), "a protocol-assignment address"),
        new(IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        new(IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        new(IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        new(IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        new(IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
        new(IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        new(IPNetwork.Parse("240.0.0.0/4"), "a reserved or broadcast address"),
        new(IPNetwork.Parse("::/128"), "an unspecified address"),
        new(IPNetwork.Parse("::1/128"), "a loopback address"),
        new(IPNetwork.Parse("fe80::/10"), "a link-local address"),
        new(IPNetwork.Parse("fec0::/10"), "a site-local address"),
        new(IPNetwork.Parse("fc00::/7"), "a private (unique local) address"),
        new(IPNetwork.Parse("ff00::/8"), "a multicast address"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork IPv4Compatible = IPNetwork.Parse("::/96");

    private readonly IPNetwork[] allowedNetworks;
    private readonly string[] allowedHosts;
    private readonly string[] allowedSuffixes;

    private EgressPolicy(IPNetwork[] networks, string[] hosts, string[] suffixes)
    {
        allowedNetworks = networks;
        allowedHosts = hosts;
        allowedSuffixes = suffixes;
    }

    public static EgressPolicy Default { get; } = new([], [], []);

    /// <summary>
    /// Parses <c>WORKQ_HANDLER_HTTP_ALLOW</c>; throws <see cref="InvalidOperationException"/> naming a bad entry.
    /// </summary>
    public static EgressPolicy Parse(string? allow)
    {
        if (string.IsNullOrWhiteSpace(allow)) return Default;
        var networks = new List<IPNetwork>();
        var hosts = new List<string>();
        var suffixes = new List<string>();
        foreach (var entry in allow.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(entry, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(entry.Trim('[', ']'), out var address)) networks.Add(
                new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            else if (entry.StartsWith("*.", StringComparison.Ordinal)
                && Uri.CheckHostName(entry[2..]) == UriHostNameType.Dns) suffixes.Add(entry[1..].ToLowerInvariant());
            else if (Uri.CheckHostName(entry) == UriHostNameType.Dns) hosts.Add(entry.ToLowerInvariant());
            else throw new InvalidOperationException($"{AllowVariable}: '{entry}' is not a CIDR (10.1.0.0/16), an " +
                $"address or a host name (api.internal, *.internal).");
        }
        return new EgressPolicy([.. networks], [.. hosts], [.. suffixes]);
    }

    /// <summary>True when the operator opened this host name, whatever it resolves to.</summary>
    public bool AllowsHost(string host)
    {
        if (allowedHosts.Length == 0 && allowedSuffixes.Length == 0) return false;
        var name = host.TrimEnd('.').ToLowerInvariant();
        return allowedHosts.Contains(name)
            || allowedSuffixes.Any(suffix => name.EndsWith(suffix, StringComparison.Ordinal));
    }

    /// <summary>
    /// Why a connection to this address is refused (e.g. "a loopback address"), or null when it may go ahead.
    /// </summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var network in allowedNetworks)
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address)) return null;
        foreach (var rule in Refused)
            if (rule.Network.BaseAddress.AddressFamily == address.AddressFamily
                && rule.Network.Contains(address)) return rule.Name;
        // A public address of this machine reaches whatever listens on all interfaces here: the broker, say.
        if (MachineAddresses.Contains(address)) return "an address of this machine";
        // IPv6 forms that carry an IPv4 address reach that address: judge the address inside.
        return EmbeddedIPv4(address) is { } inner ? Refusal(inner) : null;
    }

    private static class MachineAddresses
    {
        private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(10);
        private sealed record Snapshot(long At, HashSet<IPAddress> Addresses);

        private static Snapshot? known;

        public static bool Contains(IPAddress address)
        {
            var current = Volatile.Read(ref known);
            if (current is null || Environment.TickCount64 - current.At > Refresh.TotalMilliseconds)
            {
                current = new Snapshot(Environment.TickCount64, Read());
                Volatile.Write(ref known, current);
            }
            return current.Addresses.Contains(address);
        }

        private static HashSet<IPAddress> Read()
        {
            try
            {
                return NetworkInterface.GetAllNetworkInterfaces()
                    .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                    .Select(a => a.Address.IsIPv4MappedToIPv6 ? a.Address.MapToIPv4() : a.Address)
                    .ToHashSet();
            }
            catch (NetworkInformationException)
            {
                return [];
            }
        }
    }

    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return null;
        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address) || IPv4Compatible.Contains(address)) return new IPAddress(bytes.AsSpan(12, 4));
        if (SixToFour.Contains(address)) return new IPAddress(bytes.AsSpan(2, 4));
        return null;
    }
}
