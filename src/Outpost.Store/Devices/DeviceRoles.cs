namespace Outpost.Store.Devices;

/// <summary>The roles a store device can hold; each endpoint names the roles it accepts.</summary>
public static class DeviceRoles
{
    /// <summary>A till (point of sale).</summary>
    public const string Till = "till";

    /// <summary>A self-order kiosk, or the gateway that posts mobile-app orders.</summary>
    public const string Kiosk = "kiosk";

    /// <summary>A menu board or collection screen: read only.</summary>
    public const string Signage = "signage";

    /// <summary>A kitchen display.</summary>
    public const string Kitchen = "kitchen";

    /// <summary>A staff handheld (scanner): price checks, stock counts, out-of-stock marks, the entrance gate.</summary>
    public const string Handheld = "handheld";

    /// <summary>The back office: everything, including enrolling devices.</summary>
    public const string BackOffice = "backoffice";

    /// <summary>The store's deploy agent (<c>outpost agent</c>): reads the release HQ wants here and reports its steps; nothing else.</summary>
    public const string Agent = "agent";

    /// <summary>
    /// Another team's or a vendor's service at the store (a scale bridge, food-safety monitoring): publishes to and
    /// subscribes to the topics its grant names through the event API (<c>/api/events</c>), and nothing else.
    /// </summary>
    public const string Service = "service";

    /// <summary>Every role of an in-store device (the endpoints every device may use accept these).</summary>
    public static IReadOnlyList<string> All { get; } = [Till, Kiosk, Signage, Kitchen, Handheld, BackOffice];

    /// <summary>Every role a token can be enrolled with: the devices', the deploy agent's and a service's.</summary>
    public static IReadOnlyList<string> Enrollable { get; } = [.. All, Agent, Service];
}
