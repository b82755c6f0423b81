using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Sync.Rollouts;

namespace Outpost.Deploy;

/// <summary>
/// What the agent must remember across its own restarts, in one JSON file of its state folder, written whole and
/// renamed into place: the release the store runs (and the one before, to roll back to), the desired releases it has
/// finished with (healthy, failed or rolled back: not tried again), and the reports the store has not taken yet.
/// </summary>
public sealed class AgentState
{
    /// <summary>The release running and healthy, as far as the agent knows; null until it has looked.</summary>
    public RunningRelease? Current { get; set; }

    /// <summary>The version of the store's data <see cref="Current"/> runs on (the log file's schema version), as the store reported it.</summary>
    public int? DataVersion { get; set; }

    /// <summary>Desired releases done with, as "rollout/version".</summary>
    public List<string> Finished { get; set; } = [];

    /// <summary>The desired release the agent last said it waits for a window for ("rollout/version"), so it says so once.</summary>
    public string? Waiting { get; set; }

    /// <summary>Reports in order, not yet taken by the store.</summary>
    public List<ProgressRequest> Outbox { get; set; } = [];

    /// <summary>Reads the state file, or a fresh state when there is none.</summary>
    public static AgentState Load(string path)
    {
        if (!File.Exists(path))
        {
            return new AgentState();
        }

        return JsonSerializer.Deserialize(File.ReadAllText(path), AgentStateJsonContext.Default.AgentState) ?? new AgentState();
    }

    /// <summary>Writes the state file atomically (a crash leaves the old file or the new one, never half of one).</summary>
    public void Save(string path)
    {
        var next = path + ".next";
        using (var stream = new FileStream(next, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            JsonSerializer.Serialize(stream, this, AgentStateJsonContext.Default.AgentState);
        }

        File.Move(next, path, overwrite: true);
    }

    /// <summary>The key of a desired release in <see cref="Finished"/> and <see cref="Waiting"/>.</summary>
    public static string KeyOf(DesiredReleaseV1 desired) => $"{desired.RolloutId}/{desired.Version}";
}

/// <summary>Source-generated JSON for the agent's state file.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, WriteIndented = true)]
[JsonSerializable(typeof(AgentState))]
internal sealed partial class AgentStateJsonContext : JsonSerializerContext;
