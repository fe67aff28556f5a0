using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// The <c>Http</c> that handlers get: a client of its own per run (a script may change or dispose it) over
/// a connection pool per canvas, so no canvas reuses another's connections. Connections go through the
/// <see cref="EgressPolicy"/>: the pool resolves each name itself and checks every address before it
/// connects. No proxy (the policy would see the proxy instead of the destination) and no cookies (a shared
/// cookie jar would carry one canvas's sessions into another's requests).
/// </summary>
public sealed class HandlerHttp(EgressPolicy policy) : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, CanvasPool> pools = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates the clients of one canvas's runs; cached, so a run costs no allocation until it uses <c>Http</c>.
    /// </summary>
    public Func<HttpClient> For(string canvas) => Pool(canvas).CreateClient;

    /// <summary>
    /// Sends over one canvas's pool, for the requests a runner relays: the caller bounds them with its own token.
    /// </summary>
    public HttpMessageInvoker InvokerFor(string canvas) => Pool(canvas).Invoker;

    private CanvasPool Pool(string canvas)
        => pools.GetOrAdd(canvas, static (_, policy) => new CanvasPool(policy), policy);

    public void Dispose()
    {
        foreach (var pool in pools.Values) pool.Dispose();
        pools.Clear();
    }

    private sealed class CanvasPool : IDisposable
    {
        private readonly SocketsHttpHandler handler;

        public CanvasPool(EgressPolicy policy)
        {
            handler = new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
                UseProxy = false,
                UseCookies = false,
                MaxAutomaticRedirections = 5,
                ConnectCallback = (context, cancellationToken) => ConnectAsync(
                    policy,
                    context.DnsEndPoint,
                    cancellationToken),
            };
            CreateClient = () => new HttpClient(handler, disposeHandler: false) { Timeout = RequestTimeout };
            Invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        }

        public Func<HttpClient> CreateClient { get; }
        public HttpMessageInvoker Invoker { get; }

        public void Dispose() => handler.Dispose();
    }

    /// <summary>
    /// Resolves the name, drops every address the policy refuses, and connects to the first of the rest that answers.
    /// </summary>
    internal static async ValueTask<Stream> ConnectAsync(
        EgressPolicy policy,
        DnsEndPoint endpoint,
        CancellationToken cancellationToken)
    {
        var host = endpoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var hostAllowed = policy.AllowsHost(host);
        string? refusal = null;
        Exception? lastError = null;
        foreach (var address in addresses)
        {
            if (!hostAllowed && policy.Refusal(address) is { } why)
            {
                refusal ??= $"{address} is {why}";
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken)
                    .ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                lastError = e;
                if (e is OperationCanceledException) throw;
            }
        }
        if (lastError is not null) throw new HttpRequestException(
            HttpRequestError.ConnectionError,
            lastError.Message,
            lastError);
        throw new HttpRequestException(HttpRequestError.ConnectionError, refusal is null
            ? $"Http to {host} refused: the name resolved to no address."
            : $"Http to {host}:{endpoint.Port} refused by the egress policy: {refusal}, which handler code may not " +
                $"reach ({EgressPolicy.AllowVariable} opens chosen destinations).");
    }
}
