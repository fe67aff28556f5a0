using Xunit.Sdk;

namespace Workq.Tests.Storage;

/// <summary>
/// A contract test, declared once on an abstract suite and run by each store's subclass; a subclass marked
/// <see cref="RequiresVariableAttribute"/> reports every test skipped, with the reason, where its variable is unset.
/// </summary>
[XunitTestCaseDiscoverer("Workq.Tests.Storage.StoreFactDiscoverer", "Workq.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;
