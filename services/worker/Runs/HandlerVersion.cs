namespace Workq.Worker.Runs;

/// <summary>
/// One deployed version of a worker's code: the assembly control compiled, and a key runners know it by.
/// </summary>
public sealed class HandlerVersion(string canvas, string worker, int version, byte[] assembly)
{
    private static int lastKey;

    public string Canvas => canvas;
    public string Worker => worker;
    public int Version => version;
    public byte[] Assembly => assembly;
    /// <summary>
    /// Unique in this process: a runner may hold several versions of one worker while the old one drains.
    /// </summary>
    public int Key { get; } = Interlocked.Increment(ref lastKey);
}
