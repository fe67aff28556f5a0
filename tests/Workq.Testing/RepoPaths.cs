namespace Workq.Testing;

public static class RepoPaths
{
    public static readonly string Root = FindRoot();

    /// <summary>Services are run as built in the same configuration as the code that starts them.</summary>
    public static readonly string Configuration = AppContext.BaseDirectory
        .Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    private static string FindRoot()
    {
        // The build output first; the working directory for a program run from somewhere else.
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Workq.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Workq.sln).");
    }
}
