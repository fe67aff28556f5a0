using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Workq.Shared.Scripting;

namespace Workq.Shared.Handlers.Scripting;

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

    /// <summary>
    /// Loads a compiled handler (<see cref="ScriptCompiler.Emit"/>) into a collectible context of its own. Needs no
    /// compiler: a script's entry point is the static <c>&lt;Factory&gt;</c> method of its submission class.
    /// </summary>
    public static CompiledHandler Load(byte[] assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var context = new HandlerLoadContext("handler");
        try
        {
            using var pe = new MemoryStream(assembly, writable: false);
            var loaded = context.LoadFromStream(pe);
            var entry = loaded.GetTypes()
                .Select(
                    t => t.GetMethod("<Factory>", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
                .FirstOrDefault(m => m is not null)
                ?? throw new InvalidOperationException(
                    "the assembly is not a compiled handler: it has no script entry point");
            return new CompiledHandler(context, entry.CreateDelegate<Func<object[], Task<object?>>>());
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

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
