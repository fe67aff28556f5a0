using System.Reflection;
using System.Runtime.Loader;
using Workq.Shared.Scripting;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>
/// Holds one compiled handler version so that it can be unloaded. Everything the script
/// references (the framework, this assembly) resolves from the default context, so
/// <see cref="HandlerGlobals"/> is the same type on both sides.
/// </summary>
internal sealed class HandlerLoadContext(string name) : AssemblyLoadContext(name, isCollectible: true)
{
    protected override Assembly? Load(AssemblyName assemblyName) => null;
}
