using Workq.Control.Compiling;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Tests.Scripting;

public sealed class CompilerProtocolTests
{
    [Fact]
    public async Task A_frame_reads_back_as_written_and_a_clean_end_reads_as_null()
    {
        using var stream = new MemoryStream();
        await CompilerProtocol.WriteAsync(
            stream,
            new CompileReply(false, [new ScriptError(2, 5, "CS1002: ; expected")]),
            CancellationToken.None);
        await CompilerProtocol.WriteAsync(stream, new CompileRequest("return \"é\";", 10_000), CancellationToken.None);
        stream.Position = 0;

        var reply = await CompilerProtocol.ReadAsync<CompileReply>(stream, CancellationToken.None);
        var request = await CompilerProtocol.ReadAsync<CompileRequest>(stream, CancellationToken.None);

        Assert.Equal([new ScriptError(2, 5, "CS1002: ; expected")], reply!.Errors);
        Assert.False(reply.Ready);
        Assert.Equal(new CompileRequest("return \"é\";", 10_000), request);
        Assert.Null(await CompilerProtocol.ReadAsync<CompileReply>(stream, CancellationToken.None));
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_frame_is_an_error()
    {
        using var whole = new MemoryStream();
        await CompilerProtocol.WriteAsync(whole, CompileReply.Warm, CancellationToken.None);
        foreach (var cut in new[] { 2, (int)whole.Length - 1 })
        {
            using var truncated = new MemoryStream(whole.ToArray()[..cut]);
            await Assert.ThrowsAnyAsync<EndOfStreamException>(
                () => CompilerProtocol.ReadAsync<CompileReply>(truncated, CancellationToken.None));
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(CompilerProtocol.MaxFrameBytes + 1)]
    public async Task A_length_no_message_can_have_is_refused(int length)
    {
        using var stream = new MemoryStream(BitConverter.GetBytes(length));
        await Assert.ThrowsAsync<InvalidDataException>(
            () => CompilerProtocol.ReadAsync<CompileReply>(stream, CancellationToken.None));
    }

    [Fact]
    public void The_compiler_environment_is_the_heap_limit_and_runtime_settings_only()
    {
        var environment = CompilerProcess.Environment(512);

        Assert.Equal("0x20000000", environment["DOTNET_GCHeapHardLimit"]);
        // Runtime settings, and the locale and time zone so that code behaves as in the parent: nothing else of the
        // parent's.
        Assert.All(environment.Keys, key => Assert.True(
            key.StartsWith("DOTNET_", StringComparison.Ordinal) || key is "LANG" or "LC_ALL" or "TZ",
            key));
    }
}
