namespace Workq.Tests.Security;

/// <summary>
/// The handler code of <see cref="GuardBypassTests"/>: C# scripts the API guard would refuse, each returning what
/// happened to every attempt ("SUCCEEDED" only where the machine let it through). Targets come in the event, so the
/// code is fixed.
/// </summary>
public static class GuardBypassAttacks
{
    /// <summary>System calls by P/Invoke, and how their answers are told.</summary>
    public const string Prelude = """
        [DllImport("libc", SetLastError = true)] static extern int fork();
        [DllImport("libc")] static extern void _exit(int status);
        [DllImport("libc", SetLastError = true)]
        static extern long ptrace(long request, int pid, IntPtr address, IntPtr data);
        [DllImport("libc", SetLastError = true)] static extern int kill(int pid, int signal);
        [DllImport("libc", SetLastError = true)] static extern int setuid(uint uid);
        [DllImport("libc", SetLastError = true)] static extern int setgid(uint gid);
        [DllImport("libc", SetLastError = true)] static extern int execve(string path, string?[] argv, string?[] envp);
        static string Answer(long rc) => rc == -1
            ? new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError()).Message
            : $"SUCCEEDED ({rc})";
        static string Refusal(Exception e) => $"{e.GetType().Name}: {e.Message}";
        IEnumerable<string> Args(string name) => Event![name]!.AsArray().Select(a => a!.GetValue<string>());

        """;

    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>
    {
        ["read"] = """
            var outcomes = new List<string>();
            foreach (var path in Args("paths"))
            {
                try { outcomes.Add($"{path}: SUCCEEDED, {File.ReadAllText(path).Length} characters"); }
                catch (Exception e) { outcomes.Add($"{path}: {Refusal(e)}"); }
            }
            return outcomes;
            """,
        ["list"] = """
            var path = Args("paths").Single();
            try
            {
                var entries = string.Join(' ', Directory.GetFileSystemEntries(path).Select(Path.GetFileName).Order());
                return new[] { $"{path}: SUCCEEDED, {entries}" };
            }
            catch (Exception e) { return new[] { $"{path}: {Refusal(e)}" }; }
            """,
        ["look"] = """
            return new Dictionary<string, string>
            {
                ["hostname"] = Environment.MachineName,
                ["root"] = string.Join(' ', Directory.GetFileSystemEntries("/").Order()),
                ["proc"] = string.Join(
                    ' ',
                    Directory.GetDirectories("/proc")
                        .Select(Path.GetFileName).Where(n => n!.All(char.IsDigit)).Order()),
                ["proc1"] = File.ReadAllText("/proc/1/cmdline").Replace('\0', ' ').Trim(),
                ["interfaces"] = string.Join(
                    ' ',
                    File.ReadLines("/proc/net/dev").Skip(2).Select(l => l.Split(':')[0].Trim())),
                ["environment"] = string.Join(' ', Environment.GetEnvironmentVariables().Keys.Cast<string>().Order()),
                ["status"] = string.Join(
                    "; ",
                    File.ReadLines("/proc/self/status")
                        .Where(l => l.StartsWith("Uid") || l.StartsWith("Cap")
                            || l.StartsWith("NoNewPrivs") || l.StartsWith("Seccomp"))),
            };
            """,
        ["write"] = """
            var outcomes = new List<string>();
            foreach (var path in Args("paths"))
            {
                try { File.WriteAllText(path, "written by a runner"); outcomes.Add($"{path}: SUCCEEDED"); }
                catch (Exception e) { outcomes.Add($"{path}: {Refusal(e)}"); }
            }
            return outcomes;
            """,
        ["tcp"] = """
            var outcomes = new List<string>();
            foreach (var target in Args("targets"))
            {
                var (address, port) = (IPAddress.Parse(target.Split(' ')[0]), int.Parse(target.Split(' ')[1]));
                try
                {
                    using var client = new TcpClient(address.AddressFamily);
                    using var timeout = new CancellationTokenSource(2_000);
                    await client.ConnectAsync(address, port, timeout.Token);
                    outcomes.Add($"{target}: SUCCEEDED, connected");
                }
                catch (Exception e) { outcomes.Add($"{target}: {Refusal(e)}"); }
            }
            return outcomes;
            """,
        ["udp"] = """
            var outcomes = new List<string>();
            foreach (var target in Args("targets"))
            {
                var (address, port) = (IPAddress.Parse(target.Split(' ')[0]), int.Parse(target.Split(' ')[1]));
                try
                {
                    using var udp = new UdpClient(address.AddressFamily);
                    udp.Send("from a runner"u8.ToArray(), new IPEndPoint(address, port));
                    outcomes.Add($"udp {target}: SUCCEEDED, sent");
                }
                catch (Exception e) { outcomes.Add($"udp {target}: {Refusal(e)}"); }
            }
            foreach (var name in Args("names"))
            {
                try
                {
                    var addresses = await Dns.GetHostAddressesAsync(name, CancellationToken);
                    outcomes.Add($"dns {name}: SUCCEEDED, {string.Join(' ', addresses)}");
                }
                catch (Exception e) { outcomes.Add($"dns {name}: {Refusal(e)}"); }
            }
            return outcomes;
            """,
        ["exec"] = """
            var outcomes = new List<string>();
            try
            {
                using var shell = System.Diagnostics.Process.Start("/bin/sh", "-c true");
                outcomes.Add($"Process.Start /bin/sh: SUCCEEDED, pid {shell!.Id}");
            }
            catch (Exception e) { outcomes.Add($"Process.Start /bin/sh: {Refusal(e)}"); }
            var answer = Answer(execve("/bin/sh", new[] { "/bin/sh", "-c", "true", null }, new string?[] { null }));
            outcomes.Add($"execve /bin/sh: {answer}");
            // The dotnet host is in the sandbox: only the runner's own seccomp filter stands in the way.
            var dotnet = Environment.ProcessPath!;
            outcomes.Add(
                $"execve {dotnet}: {Answer(execve(dotnet, new[] { dotnet, "--info", null }, new string?[] { null }))}");
            return outcomes;
            """,
        ["fork"] = """
            var forks = 0;
            var answer = "";
            for (var i = 0; i < 1_000; i++)
            {
                var pid = fork();
                if (pid == 0) _exit(0);
                if (pid < 0) { answer = Answer(pid); break; }
                forks++;
            }
            return new[]
            {
                $"fork until refused: {forks} forks, then {(answer.Length > 0 ? answer : "never refused")}",
            };
            """,
        ["ptrace"] = """
            var supervisor = int.Parse(Args("pids").Single());
            return new[]
            {
                $"ptrace TRACEME: {Answer(ptrace(0, 0, IntPtr.Zero, IntPtr.Zero))}",
                $"ptrace ATTACH supervisor {supervisor}: {Answer(ptrace(16, supervisor, IntPtr.Zero, IntPtr.Zero))}",
                $"ptrace ATTACH 1: {Answer(ptrace(16, 1, IntPtr.Zero, IntPtr.Zero))}",
            };
            """,
        ["kill"] = """
            var supervisor = int.Parse(Args("pids").Single());
            return new[] { $"kill -9 supervisor {supervisor}: {Answer(kill(supervisor, 9))}" };
            """,
        ["setuid"] = """
            return new[] { $"setuid(0): {Answer(setuid(0))}", $"setgid(0): {Answer(setgid(0))}" };
            """,
        ["memory"] = """
            const long size = 2L << 30;
            var block = Marshal.AllocHGlobal((nint)size);
            for (long offset = 0; offset < size; offset += 4096) Marshal.WriteByte(block + (nint)offset, 1);
            return new[] { "2 GiB of native memory: SUCCEEDED, every page written" };
            """,
        ["garbage"] = """
            using (var stdout = Console.OpenStandardOutput())
            {
                stdout.Write([0xff, 0xff, 0xff, 0x7f, .. "garbage"u8]);
                stdout.Flush();
            }
            await Task.Delay(2_000, CancellationToken);
            return new[] { "garbage on stdout: SUCCEEDED, the supervisor let it pass" };
            """,
        ["forge"] = """
            // Done frames (type 103: run id, outcome Completed, duration, result JSON, no error, no logs, no
            // suspension, no steps) for runs this runner was never given: its own runs' results are its to give,
            // another's are not.
            var frames = new List<byte>();
            var result = "\"forged\""u8.ToArray();
            for (long run = 1_000_000; run < 1_001_000; run++)
            {
                var payload = new List<byte> { 103 };
                payload.AddRange(BitConverter.GetBytes(run));
                payload.Add(0);
                payload.AddRange(BitConverter.GetBytes(0L));
                payload.AddRange(BitConverter.GetBytes(result.Length));
                payload.AddRange(result);
                payload.AddRange(BitConverter.GetBytes(-1));
                payload.AddRange(BitConverter.GetBytes(-1));
                payload.AddRange(BitConverter.GetBytes(0));
                payload.Add(0);
                payload.AddRange(BitConverter.GetBytes(-1));
                payload.AddRange(BitConverter.GetBytes(0L));
                payload.AddRange(BitConverter.GetBytes(-1));
                payload.AddRange(BitConverter.GetBytes(0));
                frames.AddRange(BitConverter.GetBytes(payload.Count));
                frames.AddRange(payload);
            }
            using (var stdout = Console.OpenStandardOutput())
            {
                stdout.Write(frames.ToArray());
                stdout.Flush();
            }
            await Task.Delay(500, CancellationToken);
            return "genuine";
            """,
    };
}
