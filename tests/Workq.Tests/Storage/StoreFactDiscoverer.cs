using Xunit.Sdk;

namespace Workq.Tests.Storage;

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
