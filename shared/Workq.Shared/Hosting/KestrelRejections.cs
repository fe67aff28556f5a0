using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Workq.Shared.Hosting;

/// <summary>
/// Kestrel answers a request it cannot parse (bad request line, header block too large, invalid header, missing
/// Host...) itself, before any middleware, with an empty body, and .NET 10 has no hook to change that answer.
/// Two pieces give it a problem+json body. Kestrel reports each rejection, synchronously and before it writes the
/// answer, as the "Microsoft.AspNetCore.Server.Kestrel.BadRequest" diagnostic event; the observer arms the
/// connection's <see cref="RejectionWriter"/>, a pass-through over the connection's output that, once armed,
/// holds back Kestrel's empty answer and writes it again with the body. A connection that is never rejected
/// only pays one delegating call per write.
/// </summary>
public static class KestrelRejections
{
    public const string BadRequestEvent = "Microsoft.AspNetCore.Server.Kestrel.BadRequest";

    /// <summary>Connection middleware: every connection writes through its own <see cref="RejectionWriter"/>.</summary>
    public static void UseRejectionProblems(this ListenOptions listen)
    {
        // What cleartext endpoints speak anyway (HTTP/2 needs TLS to be negotiated), made explicit: the writer
        // reads and rewrites an HTTP/1.1 answer, and only HTTP/1.1 writes one response at a time per connection.
        listen.Protocols = HttpProtocols.Http1;
        listen.Use(next => connection =>
        {
            var writer = new RejectionWriter(connection.Transport.Output);
            connection.Features.Set(writer);
            connection.Transport = new DuplexPipe(connection.Transport.Input, writer);
            return next(connection);
        });
    }

    /// <summary>
    /// Listens for Kestrel's rejections; the server reports them on the application's DiagnosticListener.
    /// </summary>
    public static IDisposable SubscribeRejectionProblems(this IServiceProvider services) =>
        services.GetRequiredService<DiagnosticListener>().Subscribe(new Observer(), name => name == BadRequestEvent);

    private sealed class Observer : IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(KeyValuePair<string, object?> value)
        {
            // The event's value is the request's feature collection, which falls back to the connection's features.
            // Once the response has started (a body that turns bad after the answer) there is nothing to rewrite,
            // and an answer to HEAD has no body.
            if (value.Key == BadRequestEvent && value.Value is IFeatureCollection features
                && features.Get<IHttpResponseFeature>() is { HasStarted: false }
                && features.Get<IHttpRequestFeature>()?.Method != "HEAD")
                features.Get<RejectionWriter>()?.Arm(features.Get<IBadRequestExceptionFeature>()?.Error?.Message);
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
