namespace Workq.Tests.Scripting;

/// <summary>
/// Code that keeps Roslyn busy for minutes: every lambda is bound once per overload of M for every
/// binding of the lambdas around it (6^8 bindings here). Measured: over 200 s, and a cancellation
/// token signalled at 2 s was still not observed at 200 s.
/// </summary>
internal static class CompileBomb
{
    public static string Code(int overloads = 6, int depth = 8)
    {
        string[] types = ["int", "long", "short", "byte", "sbyte", "uint", "ulong", "ushort", "float", "double"];
        var body = "0";
        for (var d = depth - 1; d >= 0; d--) body = $"M(a{d} => {body})";
        return string.Concat(types.Take(overloads).Select(t => $"int M(Func<{t}, int> f) => 0;\n")) + $"return {body};";
    }
}
