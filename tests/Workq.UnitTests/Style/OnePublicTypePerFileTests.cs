using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Workq.UnitTests.Style;

/// <summary>
/// One public top-level type per file, so a type is found by its file's name. Nested types and a file's non-public
/// helpers may stay beside it; the parts of one partial type count once. Roslyn comes with the compiler project.
/// </summary>
public class OnePublicTypePerFileTests
{
    // The trees held to the rule; tests/ joins them once its files are split too.
    private static readonly string[] Trees = ["services", "shared", "clients", "bench"];

    [Fact]
    public void No_file_declares_two_public_top_level_types()
    {
        var offenders = Trees
            .SelectMany(tree => Directory.EnumerateFiles(
                Path.Combine(RepoPaths.Root, tree),
                "*.cs",
                SearchOption.AllDirectories))
            .Where(path => !IsBuildOutput(path))
            .Select(path => (Path: Path.GetRelativePath(RepoPaths.Root, path), Types: PublicTopLevelTypes(path)))
            .Where(file => file.Types.Count > 1)
            .Select(file => $"{file.Path}: {string.Join(", ", file.Types)}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(
            offenders.Count == 0,
            "Files with more than one public top-level type:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void Partial_parts_count_once_and_nested_and_internal_types_not_at_all()
    {
        var path = Path.Combine(Path.GetTempPath(), $"workq-style-{Guid.NewGuid():N}.cs");
        File.WriteAllText(path, """
            namespace Sample;
            public partial class Lanes { public sealed record Lane(int Id); }
            public partial class Lanes { }
            internal sealed class Helper { }
            file sealed class Other { }
            """);
        try
        {
            Assert.Equal(["Lanes"], PublicTopLevelTypes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static bool IsBuildOutput(string path) =>
        path.Split(Path.DirectorySeparatorChar) is var parts && (parts.Contains("obj") || parts.Contains("bin"));

    private static List<string> PublicTopLevelTypes(string path)
    {
        var root = CSharpSyntaxTree.ParseText(File.ReadAllText(path), path: path).GetCompilationUnitRoot();
        var members = root.Members
            .Concat(root.Members.OfType<BaseNamespaceDeclarationSyntax>().SelectMany(ns => ns.Members));
        return members
            .Where(member => member.Modifiers.Any(SyntaxKind.PublicKeyword))
            .Select(member => member switch
            {
                BaseTypeDeclarationSyntax type => type.Identifier.Text,
                DelegateDeclarationSyntax type => type.Identifier.Text,
                _ => null,
            })
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }
}
