using System.Runtime.CompilerServices;

// The unit tests watch a handler's load context and a confirm's deadline; the compiler pool's tests reach its processes.
[assembly: InternalsVisibleTo("Workq.UnitTests")]
[assembly: InternalsVisibleTo("Workq.Tests")]
