using System.Reflection;
using Workq.Tests.Cluster;

namespace Workq.Tests.Suite;

/// <summary>
/// ./test.sh picks each phase's tests by the <see cref="TestPhase"/> trait, so a class must carry the one its
/// collection needs: a test that must run alone, filed without the trait, would run beside the others unnoticed, and a
/// collection split over two processes would start its fixture twice.
/// </summary>
public sealed class TestPhaseTests
{
    private sealed record TestClass(Type Type, string? Collection, string? Phase, bool UsesContainers);

    private static readonly Assembly Suite = typeof(TestPhase).Assembly;

    private static readonly Dictionary<string, bool> RunsAlone = Suite.GetTypes()
        .Select(t => t.GetCustomAttribute<CollectionDefinitionAttribute>() is { } d ? (t, d) : default)
        .Where(p => p.t is not null)
        .ToDictionary(p => ArgumentOf(p.t.GetCustomAttributesData(), typeof(CollectionDefinitionAttribute))!,
            p => p.d.DisableParallelization);

    private static readonly List<TestClass> Classes = Suite.GetTypes()
        .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()))
        .Select(t => new TestClass(
            t,
            ArgumentOf(t.GetCustomAttributesData(), typeof(CollectionAttribute)),
            t.GetCustomAttributesData()
                .Where(a => a.AttributeType == typeof(TraitAttribute)
                    && (string?)a.ConstructorArguments[0].Value == TestPhase.Trait)
                .Select(a => (string?)a.ConstructorArguments[1].Value)
                .SingleOrDefault(),
            t.GetMethods().Any(m => m.GetCustomAttribute<ContainersFactAttribute>() is not null)))
        .ToList();

    [Fact]
    public void The_suite_has_tests_of_every_phase()
    {
        Assert.Contains(Classes, c => c.Phase == TestPhase.Alone);
        Assert.Contains(Classes, c => c.Phase == TestPhase.Background);
        Assert.Contains(Classes, c => c.Phase is null);
    }

    [Fact]
    public void Every_class_of_a_collection_that_runs_alone_runs_in_a_phase_of_its_own()
    {
        var unmarked = Classes
            .Where(c => c.Collection is { } name && RunsAlone.GetValueOrDefault(name) && c.Phase is null)
            .Select(c => c.Type.Name);
        Assert.Empty(unmarked);
    }

    [Fact]
    public void A_class_marked_to_run_alone_is_in_a_collection_that_runs_alone()
    {
        var shared = Classes.Where(c => c.Phase == TestPhase.Alone
                && !(c.Collection is { } name && RunsAlone.GetValueOrDefault(name)))
            .Select(c => c.Type.Name);
        Assert.Empty(shared);
    }

    [Fact]
    public void The_container_tests_run_in_the_background()
    {
        var wrong = Classes.Where(c => c.UsesContainers && c.Phase != TestPhase.Background).Select(c => c.Type.Name);
        Assert.Empty(wrong);
    }

    [Fact]
    public void A_collection_runs_in_one_phase()
    {
        var split = Classes.Where(c => c.Collection is not null)
            .GroupBy(c => c.Collection)
            .Where(g => g.Select(c => c.Phase).Distinct().Count() > 1)
            .Select(g => g.Key);
        Assert.Empty(split);
    }

    private static string? ArgumentOf(IEnumerable<CustomAttributeData> attributes, Type type) =>
        attributes.Where(a => a.AttributeType == type)
            .Select(a => (string?)a.ConstructorArguments[0].Value)
            .SingleOrDefault();
}
