namespace Workq.Shared.Storage;

public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, PageCursor? Next);
