namespace Outpost.Core.Consumers;

/// <summary>A consumer's health, for the back office and fleet view.</summary>
/// <param name="Name">The consumer.</param>
/// <param name="Position">The sequence it has processed up to.</param>
/// <param name="Parked">Events it parked since it started.</param>
/// <param name="LastError">The last error that stopped it reading, if it is stopped now.</param>
public sealed record ConsumerStatus(string Name, long Position, long Parked, string? LastError);
