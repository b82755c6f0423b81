using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Outpost.Core.Contracts;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Store.Services;

/// <summary>A batch of events a service publishes.</summary>
/// <param name="Producer">The producer's id, chosen by the service (for example one per process or device it bridges): 1-64 letters, digits, '.', '-', '_'.</param>
/// <param name="Events">The events, with consecutive sequences (increasing ones when <paramref name="Sparse"/>).</param>
/// <param name="Sparse">
/// The producer's sequences only increase, with gaps: a service that answers the events it reads numbers what it
/// publishes by the position it answers, so a restart that answers the same event again sends the same number. The store
/// cannot tell a lost event from a gap then, so a producer that numbers its own events leaves this false.
/// </param>
public sealed record PublishRequest(string? Producer, IReadOnlyList<ServiceEvent>? Events, bool Sparse = false);

/// <summary>One event a service publishes.</summary>
/// <param name="Seq">The producer's sequence: 1 for its first event, then one more for each (a retry sends the same again).</param>
/// <param name="Topic">A topic the service's grant lets it publish to.</param>
/// <param name="Type">The event type.</param>
/// <param name="Key">The entity the event is about.</param>
/// <param name="Payload">The payload, which must match the type's contract.</param>
/// <param name="Version">The type's version.</param>
public sealed record ServiceEvent(long Seq, string? Topic, string? Type, string? Key, JsonElement Payload, int Version = 1);

/// <summary>What a publish did.</summary>
/// <param name="Producer">The producer.</param>
/// <param name="Through">The producer's last sequence the store holds now.</param>
/// <param name="Appended">Events written by this request.</param>
/// <param name="Duplicates">Events of this request the store already held (a retry), not written again.</param>
/// <param name="Positions">Where the written events are in the store's log (what a subscriber acknowledges).</param>
public sealed record PublishResult(string Producer, long Through, int Appended, int Duplicates, IReadOnlyList<long> Positions);

/// <summary>Why a service's request (a publish, a type to register) was refused; nothing of it was written.</summary>
public sealed class ServiceRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServiceRefusedException(int status, string title, string message, IReadOnlyList<ContractViolation>? errors = null)
        : base(message)
    {
        Status = status;
        Title = title;
        Errors = errors ?? [];
    }

    /// <summary>Creates the exception (a 400).</summary>
    public ServiceRefusedException()
        : this(StatusCodes.Status400BadRequest, "Invalid request", "The request was refused.")
    {
    }

    /// <summary>Creates the exception (a 400).</summary>
    public ServiceRefusedException(string message)
        : this(StatusCodes.Status400BadRequest, "Invalid request", message)
    {
    }

    /// <summary>Creates the exception (a 400).</summary>
    public ServiceRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = StatusCodes.Status400BadRequest;
        Title = "Invalid request";
        Errors = [];
    }

    /// <summary>The HTTP status that says it.</summary>
    public int Status { get; }

    /// <summary>A short title.</summary>
    public string Title { get; }

    /// <summary>Each field at fault, when the events did not match their contracts.</summary>
    public IReadOnlyList<ContractViolation> Errors { get; }
}

/// <summary>
/// Appends services' events to the store's log, idempotently: each producer numbers its events 1, 2, 3…, and the
/// store keeps the last number it holds from that producer in a cursor moved in the very transaction that appends
/// them. A retry of what the store already holds is answered as done and written again never; a number past the next
/// one expected is refused (409, naming the one expected), so a lost event cannot go unnoticed (unless the producer says
/// its numbers are sparse: positions it answers, say). The answer comes once
/// the events are durable. Events are stamped with the store as their origin and the store as their scope, so they
/// replicate to HQ exactly once, as the store's own do, on topics whose policy sends them up.
/// </summary>
public sealed class ServicePublisher(IEventLog log, Func<ContractCatalog> contracts, string storeId)
{
    /// <summary>The most events one request may carry.</summary>
    public const int MaxEvents = 500;

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _producers = new(StringComparer.Ordinal);

    /// <summary>Publishes a service's batch.</summary>
    /// <exception cref="ServiceRefusedException">Nothing was written; it says why.</exception>
    public async Task<PublishResult> PublishAsync(string serviceId, ServiceGrant grant, PublishRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentNullException.ThrowIfNull(request);
        var producer = request.Producer;
        if (producer is not { Length: > 0 and <= 64 } || !producer.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw Invalid("'producer' is required: 1-64 letters, digits, '.', '-' or '_', the same for every event of one producer.");
        }

        if (request.Events is not { Count: > 0 and <= MaxEvents } events)
        {
            throw Invalid($"'events' is required: 1 to {MaxEvents} events.");
        }

        var first = events[0].Seq;
        var errors = new List<ContractViolation>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var at = $"events[{i.ToString(CultureInfo.InvariantCulture)}]";
            if (first < 1 || (request.Sparse ? i > 0 && e.Seq <= events[i - 1].Seq : e.Seq != first + i))
            {
                throw Invalid(request.Sparse
                    ? $"{at}.seq is {e.Seq}: a sparse producer's sequences are 1 or more and increase from one event to the next."
                    : $"{at}.seq is {e.Seq}: a producer's sequences start at 1 and the events of a request are consecutive ({first + i} here).");
            }

            if (string.IsNullOrWhiteSpace(e.Topic) || string.IsNullOrWhiteSpace(e.Type) || string.IsNullOrWhiteSpace(e.Key) || e.Payload.ValueKind == JsonValueKind.Undefined)
            {
                errors.Add(new ContractViolation(at, "'topic', 'type', 'key' and 'payload' are required."));
                continue;
            }

            if (!grant.Publish.Contains(e.Topic))
            {
                throw new ServiceRefusedException(StatusCodes.Status403Forbidden, "Topic not granted",
                    $"This service may not publish to '{e.Topic}'" + (grant.Publish.Count == 0 ? "; its grant names no topic to publish to." : $"; it may publish to {string.Join(", ", grant.Publish)}."));
            }

            errors.AddRange(contracts().Check(e.Topic, e.Type, e.Version, e.Payload).Select(v => v with { Field = at + "." + v.Field }));
        }

        if (errors.Count > 0)
        {
            throw new ServiceRefusedException(StatusCodes.Status422UnprocessableEntity, "Events refused",
                "Nothing was published. " + string.Join(" ", errors.Take(5).Select(v => $"{v.Field}: {v.Message}")), errors);
        }

        var cursor = "producer:" + serviceId + ":" + producer;
        var gate = _producers.GetOrAdd(cursor, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var held = await log.GetCursorAsync(cursor, cancellationToken) ?? 0;
            if (first > held + 1 && !request.Sparse)
            {
                throw new ServiceRefusedException(StatusCodes.Status409Conflict, "Sequence gap",
                    $"The store holds producer '{producer}' through {held}, so the next event is {held + 1}, not {first}: send the events from {held + 1} again.");
            }

            var fresh = events.Where(e => e.Seq > held).ToList();
            if (fresh.Count == 0)
            {
                return new PublishResult(producer, held, 0, events.Count, []);
            }

            var appended = await log.AppendBatchAsync([.. fresh.Select(e => new NewEvent
            {
                Topic = e.Topic!,
                Type = e.Type!,
                Version = e.Version,
                Key = e.Key!,
                Scope = Scope.Store(storeId),
                Payload = System.Text.Encoding.UTF8.GetBytes(e.Payload.GetRawText()),
                CorrelationId = "service:" + serviceId + ":" + producer,
            })], new CursorUpdate(cursor, CursorKind.Remote, fresh[^1].Seq), cancellationToken);
            return new PublishResult(producer, fresh[^1].Seq, fresh.Count, events.Count - fresh.Count, [.. appended.Select(a => a.Seq)]);
        }
        catch (InvalidEventException ex)
        {
            throw Invalid(ex.Message);
        }
        finally
        {
            gate.Release();
        }
    }

    private static ServiceRefusedException Invalid(string message) => new(StatusCodes.Status400BadRequest, "Invalid request", message);
}
