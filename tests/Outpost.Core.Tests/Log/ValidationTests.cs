using Outpost.Core.Events;

namespace Outpost.Core.Tests.Log;

public sealed class ValidationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string> BadEvents => new()
    {
        { "", "{}", "topic is empty" },
        { "Sales!", "{}", "is not valid" },
        { "sales", "", "empty payload" },
        { "sales", "{\"a\":", "not valid JSON" },
        { "sales", "{} {}", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task Invalid_event_is_refused_with_a_message_and_writes_nothing(string topic, string json, string expected)
    {
        await using var temp = TempLog.Create();

        var ex = await Assert.ThrowsAsync<InvalidEventException>(async () => await temp.Log.AppendAsync(TempLog.Event(topic: topic, json: json), Ct));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, temp.Log.Head);
        Assert.Empty(await temp.ReadAllAsync());
    }

    [Fact]
    public async Task Oversized_event_is_refused_naming_its_size_and_the_limit()
    {
        await using var temp = TempLog.Create();
        var big = "{\"blob\":\"" + new string('x', 300 * 1024) + "\"}";

        var ex = await Assert.ThrowsAsync<InvalidEventException>(async () => await temp.Log.AppendAsync(TempLog.Event(json: big), Ct));

        Assert.Contains("the limit is 262144 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, temp.Log.Head);
    }

    [Fact]
    public async Task Empty_key_and_zero_version_are_refused()
    {
        await using var temp = TempLog.Create();

        await Assert.ThrowsAsync<InvalidEventException>(async () => await temp.Log.AppendAsync(TempLog.Event(key: ""), Ct));
        await Assert.ThrowsAsync<InvalidEventException>(async () => await temp.Log.AppendAsync(TempLog.Event() with { Version = 0 }, Ct));
        Assert.Equal(0, temp.Log.Head);
    }

    [Theory]
    [InlineData("*", ScopeKind.All, null)]
    [InlineData("region:north-1", ScopeKind.Region, "north-1")]
    [InlineData("store:S042", ScopeKind.Store, "S042")]
    public void Known_scope_forms_parse_and_print_back(string text, ScopeKind kind, string? id)
    {
        var scope = Scope.Parse(text);

        Assert.Equal((kind, id, text), (scope.Kind, scope.Id, scope.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("all")]
    [InlineData("country:fr")]
    [InlineData("store:")]
    [InlineData("region:has space")]
    public void Unknown_scope_forms_are_refused_with_the_forms_that_work(string text)
    {
        var ex = Assert.Throws<FormatException>(() => Scope.Parse(text));

        Assert.Contains("'*', 'region:<id>' or 'store:<id>'", ex.Message, StringComparison.Ordinal);
    }
}
