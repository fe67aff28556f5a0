using System.Security.Cryptography;
using System.Text;

namespace Workq.Shared.Auth;

public static class Tokens
{
    /// <summary>A new canvas token: 256 random bits, URL-safe.</summary>
    public static string NewCanvasToken() => "wq_"
        + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>What is stored of a token: its SHA-256, so a leaked database leaks no usable token.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
