using System.Collections.Concurrent;
using Outpost.Core.Log;
using Outpost.Core.Topics;
using Outpost.Store.Devices;

namespace Outpost.Store.Services;

/// <summary>What a service may do at the store: the topics it may publish to and those it may read.</summary>
/// <param name="Publish">Topics it may append to.</param>
/// <param name="Read">Topics it may subscribe to.</param>
public sealed record ServiceGrant(IReadOnlyList<string> Publish, IReadOnlyList<string> Read)
{
    /// <summary>What a service enrolled without a grant may do: nothing.</summary>
    public static ServiceGrant None { get; } = new([], []);
}

/// <summary>A service the back office enrolled: its credential (shown once) and its grant.</summary>
/// <param name="Device">The service's identity (role <c>service</c>); revoked like any device.</param>
/// <param name="Token">Its bearer token: shown once, kept as a hash.</param>
/// <param name="Grant">What it may publish and read.</param>
public sealed record EnrolledService(Device Device, string Token, ServiceGrant Grant);

/// <summary>
/// The grants of the services at the store. A service is a device with the role <c>service</c> (so it is revoked,
/// rate-limited and audited as a device is), and a grant naming the topics it may publish to and read; anything else
/// is refused with a 403 that names the topic. Grants are kept in the log's database beside the devices.
/// </summary>
public sealed class ServiceGrants
{
    private const int MaxTopics = 50;

    private readonly IEventLog _log;
    private readonly DeviceRegistry _devices;
    private readonly ConcurrentDictionary<string, ServiceGrant> _grants = new(StringComparer.Ordinal);

    private ServiceGrants(IEventLog log, DeviceRegistry devices)
    {
        _log = log;
        _devices = devices;
    }

    /// <summary>Opens the grants (creating their table) and loads them.</summary>
    public static async Task<ServiceGrants> OpenAsync(IEventLog log, DeviceRegistry devices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS store_service_grants(
                device_id TEXT PRIMARY KEY, publish TEXT NOT NULL, read TEXT NOT NULL) WITHOUT ROWID;
            """, cancellationToken);
        var grants = new ServiceGrants(log, devices);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT device_id, publish, read FROM store_service_grants";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            grants._grants[reader.GetString(0)] = new ServiceGrant(Split(reader.GetString(1)), Split(reader.GetString(2)));
        }

        return grants;
    }

    /// <summary>
    /// Enrols a service with its grant; the token is returned once. A topic HQ sends down may be read but never
    /// published to (HQ is its only writer).
    /// </summary>
    /// <exception cref="ArgumentException">A bad name or topic, or a down topic to publish to.</exception>
    public async Task<EnrolledService> EnrolAsync(string name, IReadOnlyList<string>? publish, IReadOnlyList<string>? read, string by, CancellationToken cancellationToken)
    {
        var grant = new ServiceGrant(Topics(publish, "publish"), Topics(read, "read"));
        foreach (var topic in grant.Publish)
        {
            if (_log.Topics.IsDeclared(topic) && _log.Topics[topic].Direction == TopicDirection.Down)
            {
                throw new ArgumentException($"'{topic}' comes down from HQ, its only writer: a service may read it, not publish to it.", nameof(publish));
            }
        }

        DeviceRegistry.CheckEnrolment(name, DeviceRoles.Service);

        // The device first, then its grant: a crash in between leaves a service that may do nothing.
        var enrolled = await _devices.EnrolAsync(name, DeviceRoles.Service, by, cancellationToken);
        await using (var tx = await _log.BeginTransactionAsync(cancellationToken))
        {
            await tx.ExecuteAsync("INSERT INTO store_service_grants(device_id, publish, read) VALUES($id, $publish, $read)", cancellationToken,
                ("$id", enrolled.Device.Id), ("$publish", string.Join(',', grant.Publish)), ("$read", string.Join(',', grant.Read)));
            await tx.CommitAsync(cancellationToken);
        }

        _grants[enrolled.Device.Id] = grant;
        return new EnrolledService(enrolled.Device, enrolled.Token, grant);
    }

    /// <summary>The grant of a service (<see cref="ServiceGrant.None"/> for any other device).</summary>
    public ServiceGrant Of(string deviceId) => _grants.TryGetValue(deviceId, out var grant) ? grant : ServiceGrant.None;

    /// <summary>The enrolled services with their grants.</summary>
    public IReadOnlyList<(DeviceStatus Service, ServiceGrant Grant)> List() =>
        [.. _devices.List().Where(d => d.Device.Role == DeviceRoles.Service).Select(d => (d, Of(d.Device.Id)))];

    private static List<string> Topics(IReadOnlyList<string>? topics, string field)
    {
        var list = (topics ?? []).Select(t => t?.Trim() ?? "").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (list.Count > MaxTopics)
        {
            throw new ArgumentException($"'{field}' names at most {MaxTopics} topics.", field);
        }

        foreach (var topic in list)
        {
            if (topic.Length is 0 or > 100 || !topic.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-' or '_'))
            {
                throw new ArgumentException($"'{topic}' in '{field}' is not a topic: at most 100 lower-case letters, digits, '.', '-' or '_'.", field);
            }
        }

        return list;
    }

    private static List<string> Split(string text) => [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries)];
}
