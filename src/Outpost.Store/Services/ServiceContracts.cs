using System.Globalization;
using System.Text.Json;
using Outpost.Core.Contracts;
using Outpost.Core.Log;

namespace Outpost.Store.Services;

/// <summary>What registering a service's event type did.</summary>
public enum Registered
{
    /// <summary>The type and version are new and now known.</summary>
    Added,

    /// <summary>The same schema was registered before: nothing changed.</summary>
    Unchanged,
}

/// <summary>
/// The store's contract catalog: Outpost's own, and the event types services register for their own topics. A
/// registered version is immutable (another schema for it is refused: publish a new version), and Outpost's topics stay
/// Outpost's: a service cannot add types to a topic Outpost publishes on. Registrations are kept in the log's database.
/// </summary>
public sealed class ServiceContracts : IDisposable
{
    private readonly IEventLog _log;
    private readonly ContractCatalog _outpost;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile ContractCatalog _current;

    private ServiceContracts(IEventLog log, ContractCatalog outpost, IEnumerable<EventContract> registered)
    {
        _log = log;
        _outpost = outpost;
        _current = outpost.With(registered);
    }

    /// <summary>Releases the registration gate.</summary>
    public void Dispose() => _gate.Dispose();

    /// <summary>Every contract the store knows now.</summary>
    public ContractCatalog Current => _current;

    /// <summary>Opens the registrations (creating their table) on top of <paramref name="outpost"/>.</summary>
    public static async Task<ServiceContracts> OpenAsync(IEventLog log, ContractCatalog outpost, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS store_service_contracts(
                topic TEXT NOT NULL, type TEXT NOT NULL, version INTEGER NOT NULL, schema TEXT NOT NULL, service_id TEXT NOT NULL,
                PRIMARY KEY(topic, type, version)) WITHOUT ROWID;
            """, cancellationToken);
        var registered = new List<EventContract>();
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT topic, type, version, schema FROM store_service_contracts";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            registered.Add(EventContract.FromSchema(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3)));
        }

        return new ServiceContracts(log, outpost, registered);
    }

    /// <summary>Registers a service's event type at a version on one of the topics it may publish to.</summary>
    /// <exception cref="ServiceRefusedException">403: not its topic, or one of Outpost's; 409: another schema for that version; 400: not a JSON Schema.</exception>
    public async Task<Registered> RegisterAsync(string serviceId, ServiceGrant grant, string topic, string type, int version, JsonElement schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (!grant.Publish.Contains(topic))
        {
            throw new ServiceRefusedException(StatusCodes.Status403Forbidden, "Topic not granted",
                $"This service may register types only on topics it may publish to; '{topic}' is not one of them" + (grant.Publish.Count == 0 ? "." : $" ({string.Join(", ", grant.Publish)})."));
        }

        if (_outpost.All.Any(c => c.Topic == topic))
        {
            throw new ServiceRefusedException(StatusCodes.Status403Forbidden, "Outpost's topic",
                $"'{topic}' carries Outpost's own event types: a service publishes those as they are and registers its own types on a topic of its own.");
        }

        if (type is not { Length: > 0 and <= 100 } || version is < 1 or > 1000)
        {
            throw new ServiceRefusedException("A type is 1-100 characters and a version 1 to 1000.");
        }

        EventContract contract;
        try
        {
            contract = EventContract.FromSchema(topic, type, version, schema.GetRawText());
        }
        catch (ArgumentException ex)
        {
            throw new ServiceRefusedException(ex.Message.Split(" (Parameter", 2)[0]);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current.Find(topic, type, version) is { } known)
            {
                return known.Schema == contract.Schema
                    ? Registered.Unchanged
                    : throw new ServiceRefusedException(StatusCodes.Status409Conflict, "Version exists",
                        $"{type} v{version.ToString(CultureInfo.InvariantCulture)} on '{topic}' is registered with another schema, and a published version never changes: register v{(version + 1).ToString(CultureInfo.InvariantCulture)}.");
            }

            await using (var tx = await _log.BeginTransactionAsync(cancellationToken))
            {
                await tx.ExecuteAsync("INSERT INTO store_service_contracts(topic, type, version, schema, service_id) VALUES($topic, $type, $version, $schema, $service)", cancellationToken,
                    ("$topic", topic), ("$type", type), ("$version", version), ("$schema", schema.GetRawText()), ("$service", serviceId));
                await tx.CommitAsync(cancellationToken);
            }

            _current = _current.With([contract]);
        }
        finally
        {
            _gate.Release();
        }

        return Registered.Added;
    }
}
