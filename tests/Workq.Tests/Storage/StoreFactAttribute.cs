using Xunit.Sdk;

namespace Workq.Tests.Storage;

/// <summary>
/// A contract test, declared once on an abstract suite and run by each store's subclass; a subclass marked
/// <see cref="RequiresVariableAttribute"/> reports every test skipped, with the reason, where its variable is unset.
/// </summary>
[XunitTestCaseDiscoverer("Workq.Tests.Storage.StoreFactDiscoverer", "Workq.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;

/// <summary>
/// The store under test needs a server that only this variable names (no such server can be installed everywhere).
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresVariableAttribute(string variable, string reason) : Attribute
{
    public string Variable => variable;
    public string Reason => reason;
}

public sealed class StoreFactDiscoverer(IMessageSink diagnostics) : FactDiscoverer(diagnostics)
{
    // A fact attribute's Skip is fixed per method; the suite's methods are shared, so the skip is decided per test
    // class here.
    protected override IXunitTestCase CreateTestCase(
        ITestFrameworkDiscoveryOptions discoveryOptions,
        ITestMethod testMethod,
        IAttributeInfo factAttribute)
    {
        var required = testMethod.TestClass.Class
            .GetCustomAttributes(typeof(RequiresVariableAttribute).AssemblyQualifiedName)
            .SingleOrDefault();
        if (required?.GetConstructorArguments().ToArray() is [string variable, string reason]
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable)))
            return new XunitSkippedDataRowTestCase(
                DiagnosticMessageSink,
                discoveryOptions.MethodDisplayOrDefault(),
                discoveryOptions.MethodDisplayOptionsOrDefault(),
                testMethod,
                reason);
        return base.CreateTestCase(discoveryOptions, testMethod, factAttribute);
    }
}
