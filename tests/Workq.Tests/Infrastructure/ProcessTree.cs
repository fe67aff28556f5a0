namespace Workq.Tests.Infrastructure;

/// <summary>The processes a service started (a worker's runners), read from /proc.</summary>
public static class ProcessTree
{
    public static List<int> ChildrenOf(int pid) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(name => name!.All(char.IsAsciiDigit)).Select(int.Parse!)
            .Where(child =>
            {
                try
                {
                    // "pid (comm) state ppid ...": the command may hold spaces, so the fields are read after its closing parenthesis.
                    var stat = File.ReadAllText($"/proc/{child}/stat");
                    return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]) == pid;
                }
                catch (IOException)
                {
                    return false;
                }
            }).ToList();
}
