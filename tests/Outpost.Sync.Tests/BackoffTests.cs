using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Outpost.Sync.Agent;

namespace Outpost.Sync.Tests;

/// <summary>A link that retries every few seconds for hours must leave a log an operator can read.</summary>
public sealed class BackoffTests
{
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(3);

    [Fact]
    public void An_outage_logs_one_warning_then_debug_repeats_a_new_reason_a_reminder_and_its_end()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero));
        var logger = new ListLogger();
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), new Random(7), "Up", logger, time);
        var refused = new HttpRequestException("Connection refused");

        for (var i = 0; i < 50; i++)
        {
            var delay = backoff.Next(Cap, refused, refused.Message);
            Assert.InRange(delay, TimeSpan.Zero, Cap);
            time.Advance(TimeSpan.FromSeconds(2));
        }

        Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(49, logger.Entries.Count(e => e.Level == LogLevel.Debug));
        Assert.Same(refused, logger.Entries[0].Exception);
        Assert.Contains("Connection refused", logger.Entries[0].Message, StringComparison.Ordinal);

        var timeout = new TaskCanceledException();
        backoff.Next(Cap, timeout, "HQ did not answer in time");
        Assert.Equal(2, logger.Entries.Count(e => e.Level == LogLevel.Warning));

        time.Advance(Backoff.Reminder);
        backoff.Next(Cap, timeout, "HQ did not answer in time");
        var reminder = logger.Entries[^1];
        Assert.Equal(LogLevel.Warning, reminder.Level);
        Assert.Contains("failure 52", reminder.Message, StringComparison.Ordinal);
        Assert.Contains("failing for 400 s", reminder.Message, StringComparison.Ordinal);

        backoff.Reset();
        Assert.Equal(LogLevel.Information, logger.Entries[^1].Level);
        Assert.Contains("after 52 failures over 400.0 s", logger.Entries[^1].Message, StringComparison.Ordinal);
        Assert.Equal(0, backoff.Failures);

        backoff.Reset(); // a success with no outage logs nothing
        Assert.Equal(LogLevel.Information, logger.Entries[^1].Level);
        Assert.Equal(53, logger.Entries.Count);

        backoff.Next(Cap, refused, refused.Message); // a new outage starts with a warning again
        Assert.Equal(LogLevel.Warning, logger.Entries[^1].Level);
        Assert.Contains("failure 1,", logger.Entries[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_delay_grows_exponentially_up_to_the_cap()
    {
        var time = new FakeTimeProvider();
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), new Random(1), "Down", new ListLogger(), time);
        var delays = Enumerable.Range(0, 200).Select(_ => backoff.Next(Cap, new IOException("x"), "x")).ToList();

        Assert.All(delays.Take(3), d => Assert.True(d <= TimeSpan.FromMilliseconds(400)));
        Assert.All(delays, d => Assert.True(d <= Cap));
        Assert.Contains(delays.Skip(10), d => d > TimeSpan.FromSeconds(1.5));
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
