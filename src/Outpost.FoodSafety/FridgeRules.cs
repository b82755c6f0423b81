using System.Globalization;
using System.Text.Json.Nodes;

namespace Outpost.FoodSafety;

/// <summary>A fridge's temperature at a moment, from an <c>EquipmentReading</c>.</summary>
/// <param name="Fridge">The fridge (the reading's device).</param>
/// <param name="Celsius">Its temperature.</param>
/// <param name="At">When it was measured: the device's <c>at</c> when it gives one, else when the store received it.</param>
public sealed record FridgeReading(string Fridge, decimal Celsius, DateTimeOffset At);

/// <summary>What the service remembers of a fridge between readings.</summary>
/// <param name="OutSince">When its temperature left the safe range, while it is out of it.</param>
/// <param name="Alarmed">Whether an alarm is raised for it now.</param>
/// <param name="HaccpSlot">The period of its latest HACCP record.</param>
public sealed record FridgeState(DateTimeOffset? OutSince, bool Alarmed, long HaccpSlot)
{
    /// <summary>A fridge not seen before.</summary>
    public static FridgeState New { get; } = new(null, false, long.MinValue);
}

/// <summary>An event the service publishes: on which topic, which type, about what, and its payload.</summary>
public sealed record Output(string Topic, string Type, string Key, JsonObject Payload);

/// <summary>
/// The food-safety rules, a pure function of a fridge's state and its next reading: an alarm once the temperature has
/// been outside the safe range for <see cref="FoodSafetyOptions.AlarmAfter"/>, cleared when it is back; and one HACCP
/// record per fridge per <see cref="FoodSafetyOptions.HaccpEvery"/>. The time is the reading's, never the service's
/// clock, so reading the same events again (after a crash) gives the same events to publish.
/// </summary>
public sealed class FridgeRules(FoodSafetyOptions options)
{
    /// <summary>The topic of the alarms (Outpost's own <c>AlarmRaised</c>/<c>AlarmCleared</c>).</summary>
    public const string AlarmsTopic = "alarms";

    /// <summary>The topic of the HACCP records, the service's own type.</summary>
    public const string HaccpTopic = "haccp";

    /// <summary>The HACCP record's type.</summary>
    public const string HaccpType = "HaccpTemperatureRecorded";

    /// <summary>The alarms' source.</summary>
    public const string Source = "food-safety";

    /// <summary>Applies a reading; the fridge's new state, and what to publish (at most an alarm change and a HACCP record, in that order).</summary>
    public (FridgeState State, IReadOnlyList<Output> Outputs) Apply(FridgeState state, FridgeReading reading)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(reading);
        var outputs = new List<Output>(2);
        var outside = reading.Celsius < options.MinCelsius || reading.Celsius > options.MaxCelsius;
        var key = Source + ":" + reading.Fridge;
        if (outside)
        {
            var since = state.OutSince ?? reading.At;
            var alarmed = state.Alarmed;
            if (!alarmed && reading.At - since >= options.AlarmAfter)
            {
                alarmed = true;
                outputs.Add(new Output(AlarmsTopic, "AlarmRaised", key, new JsonObject
                {
                    ["source"] = Source,
                    ["subject"] = reading.Fridge,
                    ["severity"] = "critical",
                    ["message"] = string.Create(CultureInfo.InvariantCulture,
                        $"{reading.Fridge} at {reading.Celsius} °C, outside {options.MinCelsius}–{options.MaxCelsius} °C for {(reading.At - since).TotalMinutes:0} min"),
                    ["since"] = since,
                }));
            }

            state = state with { OutSince = since, Alarmed = alarmed };
        }
        else
        {
            if (state.Alarmed)
            {
                outputs.Add(new Output(AlarmsTopic, "AlarmCleared", key, new JsonObject
                {
                    ["source"] = Source,
                    ["subject"] = reading.Fridge,
                    ["message"] = string.Create(CultureInfo.InvariantCulture, $"{reading.Fridge} back to {reading.Celsius} °C"),
                    ["at"] = reading.At,
                }));
            }

            state = state with { OutSince = null, Alarmed = false };
        }

        var slot = reading.At.ToUnixTimeMilliseconds() / (long)options.HaccpEvery.TotalMilliseconds;
        if (slot != state.HaccpSlot)
        {
            outputs.Add(new Output(HaccpTopic, HaccpType, reading.Fridge, new JsonObject
            {
                ["fridge"] = reading.Fridge,
                ["celsius"] = reading.Celsius,
                ["at"] = reading.At,
                ["withinLimits"] = !outside,
                ["minCelsius"] = options.MinCelsius,
                ["maxCelsius"] = options.MaxCelsius,
            }));
            state = state with { HaccpSlot = slot };
        }

        return (state, outputs);
    }

    /// <summary>The JSON Schema of the HACCP record, registered with the store at start.</summary>
    public const string HaccpSchema = """
        {"type":"object","additionalProperties":false,
         "required":["fridge","celsius","at","withinLimits","minCelsius","maxCelsius"],
         "properties":{"fridge":{"type":"string"},"celsius":{"type":"number"},"at":{"type":"string","format":"date-time"},
                       "withinLimits":{"type":"boolean"},"minCelsius":{"type":"number"},"maxCelsius":{"type":"number"}}}
        """;
}
