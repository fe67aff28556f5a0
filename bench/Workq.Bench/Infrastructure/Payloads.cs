namespace Workq.Bench.Infrastructure;

/// <summary>
/// The event every scenario sends: a JSON object of exactly the requested size, so all three systems carry the same
/// bytes.
/// </summary>
public static class Payloads
{
    public static byte[] Event(int bytes)
    {
        const string head = """{"order":1234567,"customer":"c-000042","amount":129.95,"currency":"EUR","note":"""
            + "\"";
        const string tail = "\"}";
        var pad = Math.Max(0, bytes - head.Length - tail.Length);
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + tail);
    }

    /// <summary>A batch emit body: <c>[{"worker": w, "event": ...}, ...]</c>, the workers taken in turn.</summary>
    public static byte[] Batch(byte[] eventJson, int count, IReadOnlyList<string> workers, int firstWorker = 0)
    {
        var text = Encoding.UTF8.GetString(eventJson);
        var builder = new StringBuilder(count * (text.Length + 40)).Append('[');
        for (var i = 0; i < count; i++)
        {
            if (i > 0) builder.Append(',');
            builder.Append("{\"worker\":\"").Append(workers[(firstWorker + i) % workers.Count]).Append("\",\"event\":")
                .Append(text)
                .Append('}');
        }
        return Encoding.UTF8.GetBytes(builder.Append(']').ToString());
    }
}
