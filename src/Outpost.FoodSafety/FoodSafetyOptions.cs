namespace Outpost.FoodSafety;

/// <summary>How the food-safety service runs: which store, with which credential, where its data is, and its rules.</summary>
public sealed class FoodSafetyOptions
{
    /// <summary>The store server.</summary>
    public Uri Store { get; set; } = new("http://127.0.0.1:5090/");

    /// <summary>The service's token, from the back office's enrolment (publish: alarms, haccp; read: equipment).</summary>
    public string Token { get; set; } = "";

    /// <summary>The service's own data folder (its fridges' state and its checkpoint).</summary>
    public string DataDirectory { get; set; } = "food-safety";

    /// <summary>The name of its subscription at the store.</summary>
    public string Subscription { get; set; } = "food-safety";

    /// <summary>The lowest safe temperature.</summary>
    public decimal MinCelsius { get; set; }

    /// <summary>The highest safe temperature.</summary>
    public decimal MaxCelsius { get; set; } = 5m;

    /// <summary>How long a fridge may be outside the safe range before the alarm is raised.</summary>
    public TimeSpan AlarmAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>One HACCP record per fridge per this period.</summary>
    public TimeSpan HaccpEvery { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest wait before trying the store again.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);
}
