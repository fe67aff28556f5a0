namespace Workq.Shared.Configuration;

/// <summary>
/// The broker's nodes, from <c>WORKQ_RABBITMQ_URL</c> (or <c>WORKQ_RABBITMQ_MANAGEMENT_URL</c>): one URI, or one per
/// cluster node separated by commas. Every node must carry the same user, password and virtual host, because one
/// connection moves between them: a connection opens to any node that answers and, when that node goes, recovers on
/// another.
/// </summary>
public sealed class BrokerNodes
{
    private BrokerNodes(IReadOnlyList<Uri> nodes) => Nodes = nodes;

    public IReadOnlyList<Uri> Nodes { get; }

    /// <summary>The first node: where the credentials and the virtual host are read.</summary>
    public Uri First => Nodes[0];

    /// <summary>The nodes' hosts and ports, for logs: never the credentials.</summary>
    public override string ToString()
        => string.Join(",", Nodes.Select(n => n.Port < 0 ? n.Host : $"{n.Host}:{n.Port}"));

    public static BrokerNodes Parse(string value, string variable, params string[] schemes)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new InvalidOperationException(
            $"{variable} is empty: give one URI, or one per node separated by commas.");
        var nodes = new List<Uri>(parts.Length);
        foreach (var part in parts)
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri)
                || !schemes.Contains(uri.Scheme, StringComparer.OrdinalIgnoreCase)
                || uri.Host.Length == 0)
                throw new InvalidOperationException(
                    $"{variable} holds '{Redacted(part)}', which is not an {string.Join(" or ", schemes)} URI.");
            nodes.Add(uri);
        }
        var first = nodes[0];
        foreach (var node in nodes.Skip(1))
        {
            if (node.UserInfo != first.UserInfo || node.AbsolutePath != first.AbsolutePath
                || !node.Scheme.Equals(first.Scheme, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException(
                    $"{variable}: every node must have the same scheme, user, password and virtual host as the first; "
                    + $"'{Redacted(node.OriginalString)}' differs.");
        }
        return new BrokerNodes(nodes);
    }

    /// <summary>The URI without its password, for messages.</summary>
    private static string Redacted(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.UserInfo.Length > 0
            ? uri.Replace(parsed.UserInfo, parsed.UserInfo.Split(':')[0] + ":***", StringComparison.Ordinal)
            : uri;
}
