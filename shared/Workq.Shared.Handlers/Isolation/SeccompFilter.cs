using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Workq.Shared.Handlers.Isolation;

/// <summary>
/// A seccomp filter built with libseccomp (Debian's <c>libseccomp2</c>): every system call is allowed but those
/// refused, each with the errno it answers. The worker service compiles bwrap's filter to BPF (<see cref="Export"/>);
/// the runner loads a second one of its own (<see cref="Load"/>). Internal: handler code has no business with it.
/// </summary>
internal sealed class SeccompFilter : IDisposable
{
    private const string Library = "libseccomp.so.2";
    private const uint ActionAllow = 0x7fff0000;
    private const uint ActionErrno = 0x00050000;
    private const int AttributeThreadSync = 4;
    private IntPtr context;

    public SeccompFilter()
    {
        context = Init(ActionAllow);
        if (context == IntPtr.Zero) throw new InvalidOperationException("seccomp_init failed");
    }

    /// <summary>
    /// Refuses <paramref name="syscall"/> with <paramref name="errno"/>, or only the calls whose argument matches;
    /// false when this kernel's architecture or this libseccomp does not know the name (an older one: nothing to
    /// refuse).
    /// </summary>
    public bool Refuse(string syscall, int errno, ArgumentMatch? when = null)
    {
        var number = ResolveName(syscall);
        if (number < 0) return false;
        var comparisons = when is { } match ? new[] { match.ToNative() } : [];
        var rc = RuleAdd(context, ActionErrno | ((uint)errno & 0xffff), number, (uint)comparisons.Length, comparisons);
        return rc == 0 ? true : throw new InvalidOperationException($"seccomp_rule_add({syscall}) failed: {rc}");
    }

    /// <summary>Writes the filter as BPF, the form bwrap's <c>--seccomp FD</c> reads.</summary>
    public void Export(SafeFileHandle file)
    {
        var rc = ExportBpf(context, (int)file.DangerousGetHandle());
        if (rc != 0) throw new InvalidOperationException($"seccomp_export_bpf failed: {rc}");
    }

    /// <summary>
    /// Installs the filter on every thread of this process (TSYNC: the runtime's threads started before it).
    /// </summary>
    public void Load()
    {
        var rc = AttributeSet(context, AttributeThreadSync, 1);
        if (rc == 0) rc = LoadFilter(context);
        if (rc != 0) throw new InvalidOperationException($"seccomp_load failed: {rc}");
    }

    public void Dispose()
    {
        if (context == IntPtr.Zero) return;
        Release(context);
        context = IntPtr.Zero;
    }

    /// <summary>libseccomp's <c>struct scmp_arg_cmp</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal readonly record struct NativeMatch(uint Argument, int Operator, ulong A, ulong B);

    [DllImport(Library, EntryPoint = "seccomp_init")]
    private static extern IntPtr Init(uint defaultAction);

    [DllImport(Library, EntryPoint = "seccomp_syscall_resolve_name")]
    private static extern int ResolveName([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport(Library, EntryPoint = "seccomp_rule_add_array")]
    private static extern int RuleAdd(IntPtr context, uint action, int syscall, uint count, NativeMatch[] comparisons);

    [DllImport(Library, EntryPoint = "seccomp_attr_set")]
    private static extern int AttributeSet(IntPtr context, int attribute, uint value);

    [DllImport(Library, EntryPoint = "seccomp_export_bpf")]
    private static extern int ExportBpf(IntPtr context, int fd);

    [DllImport(Library, EntryPoint = "seccomp_load")]
    private static extern int LoadFilter(IntPtr context);

    [DllImport(Library, EntryPoint = "seccomp_release")]
    private static extern void Release(IntPtr context);

    /// <summary>
    /// A condition on one argument of a system call: <c>(arg &amp; Mask) == Value</c>, or <c>arg != Value</c>.
    /// </summary>
    public readonly record struct ArgumentMatch(uint Argument, ulong Value, ulong? Mask = null, bool NotEqual = false)
    {
        private const int CompareNotEqual = 1;
        private const int CompareMaskedEqual = 7;

        internal NativeMatch ToNative() => NotEqual
            ? new NativeMatch(Argument, CompareNotEqual, Value, 0)
            : new NativeMatch(Argument, CompareMaskedEqual, Mask ?? ulong.MaxValue, Value);
    }
}
