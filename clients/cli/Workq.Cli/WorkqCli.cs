using System.CommandLine;
using System.Text.Json;
using Polly.Timeout;
using Workq.Cli.Commands;
using Workq.Client;

namespace Workq.Cli;

/// <summary>
/// The <c>workq</c> command line. Exit codes: 0 done, 1 the API (or the network) refused, 2 usage, 3 a wait ran out
/// before what it waited for finished. Errors are one line on stderr, never a stack trace.
/// </summary>
public static class WorkqCli
{
    public const int Ok = 0;
    public const int ApiError = 1;
    public const int UsageError = 2;
    public const int NotFinished = 3;

    /// <summary>
    /// Runs one command line. Tests pass their own writers, environment, HTTP handler and standard input (read by the
    /// arguments given as <c>-</c>; <see cref="Console.In"/> when none is given).
    /// </summary>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter output,
        TextWriter error,
        Func<string, string?>? environment = null,
        HttpMessageHandler? handler = null,
        TextReader? input = null,
        CancellationToken cancellationToken = default)
    {
        var app = new CliApp(
            output,
            error,
            environment ?? Environment.GetEnvironmentVariable,
            handler,
            input ?? Console.In);
        var parse = app.BuildRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            error.WriteLine($"workq: {OneLine(parse.Errors[0].Message)} (see 'workq --help')");
            return UsageError;
        }
        return await parse.InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
            cancellationToken);
    }

    internal static string OneLine(
        string text) => string.Join(
            ' ',
            text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A mistake in how the command was called (exit 2), as opposed to a refusal by the API (exit 1).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A wait that ran out (exit 3): what it waited for is still going, which a script tells apart from a refusal.
/// </summary>
internal sealed class NotFinishedException(string message) : Exception(message);

/// <summary>
/// Builds the command tree and runs each command's action inside the one place that turns failures into exit codes.
/// </summary>
internal sealed class CliApp(
    TextWriter output,
    TextWriter error,
    Func<string, string?> environment,
    HttpMessageHandler? handler,
    TextReader input)
{
    private readonly Option<string> url = new("--url")
    {
        Description = "Control API address [env: WORKQ_URL; default: http://127.0.0.1:8080]",
        Recursive = true
    };
    private readonly Option<string> emitUrl = new("--emit-url")
    {
        Description = "Emitter address [env: WORKQ_EMIT_URL; default: http://127.0.0.1:8081]",
        Recursive = true
    };
    private readonly Option<string> token = new("--token")
    {
        Description = "Admin or canvas token [env: WORKQ_TOKEN]",
        Recursive = true
    };

    public TextWriter Error => error;

    public RootCommand BuildRoot()
    {
        var root = new RootCommand("workq: drive Workq background workers over their HTTP API.") {
            url,
            emitUrl,
            token };
        foreach (var command in CanvasCommands.Build(this).Concat(WorkerCommands.Build(this))
            .Concat(EventCommands.Build(this))
            .Concat(EventControlCommands.Build(this))
            .Concat(BatchCommands.Build(this))
            .Concat(CronCommands.Build(this))
            .Concat(InstanceCommands.Build(this)))
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>A fresh <c>--json</c> for a reading command: print the API's objects as JSON instead of text.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of text" };

    public Command Action(Command command, Func<CliContext, CancellationToken, Task> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var context = new CliContext(parse, output, Setting(parse, url, "WORKQ_URL", "http://127.0.0.1:8080"),
                Setting(parse, emitUrl, "WORKQ_EMIT_URL", "http://127.0.0.1:8081"), parse.GetValue(token)
                    ?? environment("WORKQ_TOKEN"), handler, input);
            try
            {
                await action(context, cancellationToken);
                return WorkqCli.Ok;
            }
            catch (UsageException e)
            {
                return Fail(WorkqCli.UsageError, e.Message);
            }
            catch (NotFinishedException e)
            {
                return Fail(WorkqCli.NotFinished, e.Message);
            }
            catch (WorkqException e)
            {
                return Fail(WorkqCli.ApiError, e.Message);
            }
            catch (HttpRequestException e)
            {
                return Fail(WorkqCli.ApiError, $"request failed: {e.Message}");
            }
            catch (TimeoutRejectedException)
            {
                return Fail(WorkqCli.ApiError, "the service did not answer in time");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Fail(130, "cancelled");
            }
            catch (JsonException e)
            {
                return Fail(WorkqCli.ApiError, $"unexpected answer from the service: {e.Message}");
            }
        });
        return command;
    }

    private int Fail(int code, string message)
    {
        error.WriteLine($"workq: {WorkqCli.OneLine(message)}");
        return code;
    }

    private string Setting(
        System.CommandLine.ParseResult parse,
        Option<string> option,
        string variable,
        string fallback) =>
        parse.GetValue(option) ?? environment(variable) ?? fallback;
}
