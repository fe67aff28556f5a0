using System.Runtime.CompilerServices;

// Lets the unload tests watch a handler's load context.
[assembly: InternalsVisibleTo("Workq.Tests")]
