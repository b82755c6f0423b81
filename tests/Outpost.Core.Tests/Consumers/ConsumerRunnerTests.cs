using Outpost.Core.Consumers;
using Outpost.Core.Log;

namespace Outpost.Core.Tests.Consumers;

public sealed class ConsumerRunnerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly ConsumerOptions Fast = new() { RetryDelay = TimeSpan.Zero, MaxAttempts = 3, BatchSize = 4 };

    [Fact]
    public async Task Consumer_builds_its_read_model_and_checkpoints_at_the_head()
    {
        await using var temp = TempLog.Create();
        await SalesCountConsumer.CreateTableAsync(temp.Log);
        for (var i = 0; i < 10; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(key: i % 2 == 0 ? "even" : "odd"), Ct);
        }

        await temp.Log.AppendAsync(TempLog.Event(topic: "telemetry", key: "ignored"), Ct);
        var runner = new ConsumerRunner(temp.Log, new SalesCountConsumer(), Fast);

        var handled = await runner.CatchUpAsync(Ct);

        Assert.Equal(10, handled);
        Assert.Equal(new Dictionary<string, long> { ["even"] = 5, ["odd"] = 5 }, await SalesCountConsumer.CountsAsync(temp.Log));
        Assert.Equal(11, await temp.Log.GetCursorAsync(ConsumerRunner.CursorName("sales-count"), Ct));
    }

    [Fact]
    public async Task A_consumer_that_skips_every_event_saves_its_position_once_the_log_is_quiet_so_retention_is_not_held_back()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var temp = TempLog.Create(time: time);
        await SalesCountConsumer.CreateTableAsync(temp.Log);
        var runner = new ConsumerRunner(temp.Log, new SalesCountConsumer(), Fast, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = runner.RunAsync(stop.Token);
        for (var i = 0; i < 5; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(topic: "prices", key: $"p{i}"), Ct);
        }

        await runner.WaitForPositionAsync(5, Ct);
        Assert.Equal(0, await temp.Log.GetCursorAsync(ConsumerRunner.CursorName("sales-count"), Ct)); // not per skipped event

        // A quiet second later the skipped progress is saved.
        for (var i = 0; i < 200 && await temp.Log.GetCursorAsync(ConsumerRunner.CursorName("sales-count"), Ct) != 5; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(10, Ct);
        }

        Assert.Equal(5, await temp.Log.GetCursorAsync(ConsumerRunner.CursorName("sales-count"), Ct));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_full_disk_is_not_the_event_s_fault_it_is_waited_out_and_never_parks_the_event()
    {
        await using var temp = TempLog.Create();
        await SalesCountConsumer.CreateTableAsync(temp.Log);
        for (var i = 0; i < 10; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(key: "k"), Ct);
        }

        // More failures than the attempts that park an event: a full disk (as SQLite says it) for a while.
        var failures = Fast.MaxAttempts * 2;
        var consumer = new SalesCountConsumer
        {
            FailWhen = e => e.Seq == 6 && failures-- > 0,
            Failure = _ => new Microsoft.Data.Sqlite.SqliteException("SQLite Error 13: 'database or disk is full'.", 13),
        };

        await new ConsumerRunner(temp.Log, consumer, Fast).CatchUpAsync(Ct);

        Assert.Equal(10, (await SalesCountConsumer.CountsAsync(temp.Log))["k"]);
        Assert.Empty(await temp.Log.GetDeadLettersAsync(cancellationToken: Ct));
        Assert.Equal(-1, failures);
    }

    [Fact]
    public async Task A_failure_after_writing_rolls_back_so_each_event_counts_exactly_once()
    {
        await using var temp = TempLog.Create();
        await SalesCountConsumer.CreateTableAsync(temp.Log);
        for (var i = 0; i < 10; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(key: "k"), Ct);
        }

        var failures = 2;
        var consumer = new SalesCountConsumer { FailWhen = e => e.Seq == 6 && failures-- > 0 };

        await new ConsumerRunner(temp.Log, consumer, Fast).CatchUpAsync(Ct);

        Assert.Equal(10, (await SalesCountConsumer.CountsAsync(temp.Log))["k"]);
        Assert.True(consumer.Calls > 10, "the failing page was retried");
        Assert.Empty(await temp.Log.GetDeadLettersAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_restarted_consumer_resumes_from_its_checkpoint()
    {
        await using var temp = TempLog.Create();
        await SalesCountConsumer.CreateTableAsync(temp.Log);
        for (var i = 0; i < 5; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(key: "k"), Ct);
        }

        await new ConsumerRunner(temp.Log, new SalesCountConsumer(), Fast).CatchUpAsync(Ct);
        await temp.ReopenAsync();
        for (var i = 0; i < 5; i++)
        {
            await temp.Log.AppendAsync(TempLog.Event(key: "k"), Ct);
        }

        var second = new SalesCountConsumer();
        await new ConsumerRunner(temp.Log, second, Fast).CatchUpAsync(Ct);

        Assert.Equal(5, second.Calls);
        Assert.Equal(10, (await SalesCountConsumer.CountsAsync(temp.Log))["k"]);
    }

    [Fact]
    public async Task An_event_that_keeps_failing_is_parked_with_its_error_and_the_rest_are_handled()
    {
        await using var temp = TempLog.Create();
        await SalesCountConsumer.CreateTableAsync(temp.Log);
        foreach (var key in new[] { "a", "poison", "b", "c" })
        {
            await temp.Log.AppendAsync(TempLog.Event(key: key), Ct);
        }

        var runner = new ConsumerRunner(temp.Log, new SalesCountConsumer { FailWhen = e => e.Key == "poison" }, Fast);
        await runner.CatchUpAsync(Ct);

        var letter = Assert.Single(await temp.Log.GetDeadLettersAsync("sales-count", Ct));
        Assert.Equal((2L, "sales", "SaleCompleted.v1", 3), (letter.Seq, letter.Topic, letter.Type, letter.Attempts));
        Assert.Contains("cannot read poison", letter.Error, StringComparison.Ordinal);
        var counts = await SalesCountConsumer.CountsAsync(temp.Log);
        Assert.Equal(["a", "b", "c"], counts.Keys.Order());
        Assert.Equal(1, runner.Status.Parked);
        Assert.Equal(1, (await temp.Log.GetStatsAsync(Ct)).DeadLetters);
    }

    [Fact]
    public async Task A_running_consumer_handles_new_events_as_they_are_committed()
    {
        await using var temp = TempLog.Create();
        await SalesCountConsumer.CreateTableAsync(temp.Log);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var runner = new ConsumerRunner(temp.Log, new SalesCountConsumer(), Fast);
        var running = runner.RunAsync(cts.Token);

        await temp.Log.AppendAsync(TempLog.Event(key: "live"), Ct);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (runner.Status.Position < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, Ct);
        }

        await cts.CancelAsync();
        await running;
        Assert.Equal(1, (await SalesCountConsumer.CountsAsync(temp.Log))["live"]);
    }
}
