using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Workq.UnitTests.Style;

/// <summary>
/// The style the build holds every C# file to, beyond .editorconfig: one public top-level type per file, so a type is
/// found by its file's name (nested types and a file's non-public helpers may stay beside it; the parts of one partial
/// type count once; Roslyn comes with the compiler project), and lines of at most 120 characters, comments and strings
/// included (Roslynator's RCS0056 fails the build on long code lines but passes long comments).
/// </summary>
public class SourceStyleTests
{
    private const int MaxLineLength = 120;
    private static readonly string[] Trees = ["services", "shared", "clients", "bench", "tests"];

    private static IEnumerable<string> SourceFiles() => Trees
        .SelectMany(tree => Directory.EnumerateFiles(
            Path.Combine(RepoPaths.Root, tree),
            "*.cs",
            SearchOption.AllDirectories))
        .Where(path => !IsBuildOutput(path));

    [Fact]
    public void No_line_is_longer_than_120_characters()
    {
        var offenders = SourceFiles()
            .SelectMany(path => File.ReadLines(path)
                .Select((line, index) => (Line: index + 1, line.Length))
                .Where(line => line.Length > MaxLineLength)
                .Select(line => $"{Path.GetRelativePath(RepoPaths.Root, path)}:{line.Line} ({line.Length} characters)"))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(offenders.Count == 0, "Lines over 120 characters:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void No_file_declares_two_public_top_level_types()
    {
        var offenders = SourceFiles()
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
