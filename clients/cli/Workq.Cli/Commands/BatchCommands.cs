using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Workq.Client;

namespace Workq.Cli.Commands;

/// <summary>
/// <c>batches create|add|close|status|wait|cancel|list</c> (or <c>batch ...</c>): events that end together, and the
/// callbacks emitted when they have.
/// </summary>
internal static class BatchCommands
{
    private const int DefaultWaitSeconds = 30;

    // A file's items, read the way the API takes them.
    private static readonly JsonSerializerOptions FileJson = new(JsonSerializerDefaults.Web);

    public static IEnumerable<Command> Build(CliApp app)
    {
        var batches = new Command("batches", "Events that end together, with callbacks once they have") {
            Create(app),
            Add(app),
            Close(app),
            Status(app),
            Wait(app),
            Cancel(app),
            List(app) };
        batches.Aliases.Add("batch");
        yield return batches;
    }

    private static Command Create(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var (events, file) = ItemOptions();
        var onComplete = new Option<string>("--on-complete")
        {
            Description = "Emit WORKER=JSON once every event ended, however it ended"
        };
        var onSuccess = new Option<string>("--on-success")
        {
            Description = "Emit WORKER=JSON once every event ended, if every one completed"
        };
        var open = new Option<bool>("--open")
        {
            Description = "Keep it open: 'batches add' adds events, and it completes only after 'batches close'"
        };
        var key = new Option<string>("--key", "--idempotency-key")
        {
            Description = "Idempotency key: the same key returns the first batch and its ids"
        };
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "create",
            "Create a batch (up to 1000 events, or none); prints its id, then its events' ids in order") {
                canvas,
                events,
                file,
                onComplete,
                onSuccess,
                open,
                key,
                json },
            async (cli, ct) =>
        {
            var created = await cli.Emitter.CreateBatchAsync(
                cli.Get(canvas),
                await ItemsAsync(cli, events, file, ct),
                Callback(cli.Get(onComplete), "--on-complete"),
                Callback(cli.Get(onSuccess), "--on-success"),
                cli.Get(open),
                cli.Get(key),
                ct);
            if (cli.Get(json))
            {
                cli.WriteJson(created);
                return;
            }
            cli.Out.WriteLine(created.BatchId);
            foreach (var id in created.Ids) cli.Out.WriteLine(id);
        });
    }

    private static Command Add(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = IdArgument();
        var (events, file) = ItemOptions();
        return app.Action(new Command("add", "Add events to an open batch; prints their ids in order") {
            canvas,
            id,
            events,
            file }, async (cli, ct) =>
        {
            var items = await ItemsAsync(cli, events, file, ct);
            if (items.Count == 0) throw new UsageException("nothing to add: give --event WORKER=JSON or --file FILE");
            foreach (var added in await cli.Emitter.AddToBatchAsync(cli.Get(canvas), BatchId(cli, id), items, ct))
                cli.Out.WriteLine(added);
        });
    }

    private static Command Close(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = IdArgument();
        return app.Action(new Command("close", "Close an open batch: it completes once its events ended") {
            canvas,
            id }, async (cli, ct) =>
        {
            var batchId = BatchId(cli, id);
            await cli.Emitter.CloseBatchAsync(cli.Get(canvas), batchId, ct);
            cli.Out.WriteLine($"closed batch {batchId}");
        });
    }

    private static Command Status(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = IdArgument();
        var json = CliApp.JsonOption();
        return app.Action(new Command("status", "A batch's state (open, running, completed), counts and callbacks") {
            canvas,
            id,
            json }, async (cli, ct) =>
            Show(cli, json, await cli.Control.GetBatchAsync(cli.Get(canvas), BatchId(cli, id), ct)));
    }

    private static Command Wait(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = IdArgument();
        var timeout = new Option<int?>("--timeout")
        {
            Description = $"Wait at most SECONDS (default {DefaultWaitSeconds}); exit 3 if it has not completed by then"
        };
        var json = CliApp.JsonOption();
        return app.Action(new Command("wait", "Wait until a batch completed, then show it as status does") {
            canvas,
            id,
            timeout,
            json }, async (cli, ct) =>
        {
            var seconds = cli.Get(timeout) ?? DefaultWaitSeconds;
            if (seconds < 0) throw new UsageException($"--timeout takes whole seconds from 0, not {seconds}");
            var batch = await cli.Control.WaitForBatchAsync(
                cli.Get(canvas),
                BatchId(cli, id),
                TimeSpan.FromSeconds(seconds),
                ct);
            Show(cli, json, batch);
            if (!batch.IsCompleted)
                throw new NotFinishedException($"batch {batch.Id} did not complete within {seconds}s: {batch.State}, " +
                    $"{Done(batch)}/{batch.Total} done");
        });
    }

    private static Command Cancel(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var id = IdArgument();
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "cancel",
            "Cancel a batch: its waiting events are cancelled, running ones finish; then onComplete fires") {
                canvas,
                id,
                json },
            async (cli, ct) =>
        {
            var batch = await cli.Control.CancelBatchAsync(cli.Get(canvas), BatchId(cli, id), ct);
            if (cli.Get(json)) cli.WriteJson(batch);
            else cli.Out.WriteLine($"cancelled batch {batch.Id}: {batch.State}, {Done(batch)}/{batch.Total} done");
        });
    }

    private static Command List(CliApp app)
    {
        var canvas = new Argument<string>("CANVAS");
        var state = new Option<string>("--state") { Description = "Only batches in this state" };
        state.AcceptOnlyFromAmong("open", "running", "completed");
        var limit = new Option<int?>("--limit") { Description = "Batches per page (1-1000, default 100)" };
        var cursor = new Option<string>("--cursor") { Description = "The page after the one that printed this cursor" };
        var json = CliApp.JsonOption();
        return app.Action(new Command(
            "list",
            "A canvas's batches, newest first; FAILED counts the failed, timed-out and dead-lettered events") {
                canvas,
                state,
                limit,
                cursor,
                json },
            async (cli, ct) =>
        {
            var page = await cli.Control
                .ListBatchesAsync(cli.Get(canvas), cli.Get(state), cli.Get(limit), cli.Get(cursor), ct);
            cli.WriteList(page.Items, json, ["ID", "STATE", "DONE", "FAILED", "CREATED"], b =>
                [b.Id.ToString(), b.State, $"{Done(b)}/{b.Total}", (b.Failed + b.TimedOut + b.DeadLettered)
                    .ToString(), TextTable.Time(b.CreatedAt)]);
            // The JSON stays the plain array scripts read; the table says where the next page is.
            if (page.NextCursor is { } next && !cli.Get(json)) cli.Out.WriteLine($"more: --cursor {next}");
        });
    }

    private static void Show(CliContext cli, Option<bool> json, Batch batch)
    {
        if (cli.Get(json)) cli.WriteJson(batch);
        else TextTable.WritePairs(cli.Out, Describe(batch));
    }

    private static IEnumerable<(string, string)> Describe(Batch batch)
    {
        yield return ("batch", batch.Id.ToString());
        yield return ("state", batch.State);
        yield return ("done", $"{Done(batch)}/{batch.Total}");
        yield return ("completed", batch.Completed.ToString());
        yield return ("failed", batch.Failed.ToString());
        yield return ("timed out", batch.TimedOut.ToString());
        yield return ("cancelled", batch.Cancelled.ToString());
        yield return ("dead-lettered", batch.DeadLettered.ToString());
        yield return ("on complete", CallbackText(batch.OnComplete));
        yield return ("on success", CallbackText(batch.OnSuccess));
        yield return ("created", TextTable.Time(batch.CreatedAt));
        yield return ("closed", TextTable.Time(batch.ClosedAt));
        yield return ("cancelled at", TextTable.Time(batch.CancelledAt));
        yield return ("finished", TextTable.Time(batch.FinishedAt));
    }

    private static string CallbackText(BatchCallbackRef? callback) =>
        callback is null ? "none" : $"{callback.Worker}, event {callback.EventId}";

    /// <summary>The events that ended, however they ended.</summary>
    private static int Done(Batch batch) => batch.Total - batch.Pending;

    private static Argument<string> IdArgument() => new("ID") { Description = "The batch id create printed" };

    private static Guid BatchId(CliContext cli, Argument<string> id) => Guid.TryParse(cli.Get(id), out var batchId)
        ? batchId
        : throw new UsageException($"'{cli.Get(id)}' is not a batch id (a GUID)");

    private static (Option<string[]> Events, Option<string> File) ItemOptions() => (
        new Option<string[]>("--event") { Description = "An event, WORKER=JSON; repeat it for more" },
        new Option<string>("--file")
        {
            Description = "A JSON array of items as the API takes them: {\"worker\", \"event\", \"idempotencyKey\"?, " +
                "\"delaySeconds\"?, \"runAt\"?, \"orderingKey\"?}; they follow the --event ones"
        });

    private static async Task<List<EmitItem>> ItemsAsync(
        CliContext cli,
        Option<string[]> events,
        Option<string> file,
        CancellationToken ct)
    {
        var items = (cli.Get(events) ?? []).Select(text => WorkerJson(text, "--event"))
            .Select(e => new EmitItem(e.Worker, e.Value))
            .ToList();
        if (cli.Get(file) is { } path) items.AddRange(FileItems(path, await CliContext.ReadFileAsync(path, ct)));
        return items;
    }

    private static IEnumerable<EmitItem> FileItems(string path, string text)
    {
        List<FileItem?>? items;
        try
        {
            items = JsonSerializer.Deserialize<List<FileItem?>>(text, FileJson);
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path} is not a JSON array of items: {e.Message}");
        }
        return (items ?? throw new UsageException($"{path} is not a JSON array of items")).Select((item, i) =>
            item is { Worker: { } worker }
                ? new EmitItem(
                    worker,
                    item.Event,
                    item.IdempotencyKey,
                    item.DelaySeconds is { } seconds
                        ? EventCommands.DelayOf(seconds, $"{path}: item {i}'s delaySeconds")
                        : null,
                    item.RunAt,
                    item.OrderingKey)
                : throw new UsageException($"{path}: item {i} has no \"worker\"")).ToList();
    }

    private static BatchCallback? Callback(string? text, string option)
    {
        if (text is null) return null;
        var (worker, value) = WorkerJson(text, option);
        return new BatchCallback(worker, value);
    }

    /// <summary>WORKER=JSON, as <c>--event</c>, <c>--on-complete</c> and <c>--on-success</c> take it.</summary>
    private static (string Worker, JsonNode? Value) WorkerJson(string text, string option)
    {
        var equals = text.IndexOf('=');
        if (equals <= 0) throw new UsageException($"{option} takes WORKER=JSON, not '{text}'");
        var worker = text[..equals];
        return (worker, CliContext.ParseJson(text[(equals + 1)..], $"{option} {worker}"));
    }

    private sealed record FileItem(
        string? Worker,
        JsonNode? Event,
        string? IdempotencyKey,
        double? DelaySeconds,
        DateTimeOffset? RunAt,
        string? OrderingKey);
}
