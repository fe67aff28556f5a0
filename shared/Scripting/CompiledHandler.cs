using System.Runtime.Loader;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Workq.Shared.Scripting;

/// <summary>
/// One compiled version of a worker's code. Run it any number of times, concurrently;
/// dispose it when the version is replaced so its assembly can be unloaded.
/// </summary>
public sealed class CompiledHandler : IDisposable
{
    private Func<object[], Task<object?>>? _entryPoint;

    internal CompiledHandler(HandlerLoadContext context, Func<object[], Task<object?>> entryPoint)
    {
        LoadContext = context;
        _entryPoint = entryPoint;
    }

    internal AssemblyLoadContext LoadContext { get; }

    /// <summary>
    /// Serializer options private to this version: System.Text.Json caches metadata per options
    /// instance, and the shared default cache would keep script-defined types (and so this version) alive.
    /// </summary>
    public JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerOptions.Default)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>Runs the handler; the task ends with its return value (null when it returns nothing).</summary>
    public Task<object?> RunAsync(HandlerGlobals globals)
    {
        ArgumentNullException.ThrowIfNull(globals);
        var entryPoint = Volatile.Read(ref _entryPoint) ?? throw new ObjectDisposedException(nameof(CompiledHandler));
        globals.SerializerOptions = SerializerOptions;
        // Slot 0 holds the globals, slot 1 receives the submission instance.
        return entryPoint([globals, null!]);
    }

    /// <summary>Starts unloading this version; runs in flight finish normally.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _entryPoint, null) is not null)
        {
            LoadContext.Unload();
        }
    }
}
