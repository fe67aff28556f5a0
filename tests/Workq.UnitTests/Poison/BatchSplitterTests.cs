using Npgsql;
using Workq.Shared.Poison;

namespace Workq.UnitTests.Poison;

/// <summary>
/// A flush with bad rows in it: the good rows land, each bad one is quarantined, and an outage hands back what is left.
/// </summary>
public sealed class BatchSplitterTests
{
    private readonly List<int> written = [];
    private readonly List<(int Row, Exception Error)> quarantined = [];
    private int writes;

    private Func<IReadOnlyList<int>, CancellationToken, Task> Store(
        Func<int, bool> bad,
        Func<int, bool>? down = null) => (part, _) =>
    {
        writes++;
        // A statement is all or nothing, as one INSERT ... SELECT FROM unnest(...) is.
        if (part.Any(r => down?.Invoke(writes) == true)) throw new NpgsqlException("connection refused");
        if (part.Any(bad)) throw new PostgresException(
            "invalid byte sequence for encoding \"UTF8\": 0x00",
            "ERROR",
            "ERROR",
            "22021");
        written.AddRange(part);
        return Task.CompletedTask;
    };

    private Task Quarantine(int row, Exception error, CancellationToken cancellationToken)
    {
        quarantined.Add((row, error));
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_good_batch_is_one_write()
    {
        var result = await BatchSplitter.WriteAsync(
            [.. Enumerable.Range(0, 500)],
            Store(_ => false),
            Quarantine,
            CancellationToken.None);
        Assert.Same(SplitResult<int>.Done, result);
        Assert.Equal(1, writes);
        Assert.Equal(500, written.Count);
    }

    [Fact]
    public async Task Bad_rows_are_quarantined_and_every_other_row_is_written_once_in_order()
    {
        var rows = Enumerable.Range(0, 1_000).ToList();
        var result = await BatchSplitter.WriteAsync(
            rows,
            Store(r => r is 17 or 640),
            Quarantine,
            CancellationToken.None);

        Assert.Empty(result.Unwritten);
        Assert.Null(result.Outage);
        Assert.Equal(rows.Where(r => r is not (17 or 640)), written);
        Assert.Equal([17, 640], quarantined.Select(q => q.Row));
        Assert.All(quarantined, q => Assert.IsType<PostgresException>(q.Error));
        // Halving: about two writes per level per bad row, not one per row.
        Assert.InRange(writes, 2, 45);
    }

    [Fact]
    public async Task An_outage_midway_hands_back_only_what_is_not_written()
    {
        var rows = Enumerable.Range(0, 64).ToList();
        // The first write fails on row 5, its halves and quarters are written... until the database goes away on the
        // fifth write.
        var result = await BatchSplitter.WriteAsync(
            rows,
            Store(r => r == 5, down: n => n >= 5),
            Quarantine,
            CancellationToken.None);

        Assert.IsType<NpgsqlException>(result.Outage);
        Assert.Equal(rows.Except(written).Except(quarantined.Select(q => q.Row)).Order(), result.Unwritten.Order());
        Assert.NotEmpty(result.Unwritten);
        Assert.Empty(written.Intersect(result.Unwritten));
    }

    [Fact]
    public async Task A_quarantine_that_fails_hands_its_row_back()
    {
        var result = await BatchSplitter.WriteAsync(
            [1, 2, 3, 4],
            Store(r => r == 4),
            (_, _, _) => throw new NpgsqlException("down"),
            CancellationToken.None);
        Assert.Equal([1, 2, 3], written);
        Assert.Equal([4], result.Unwritten);
    }
}
