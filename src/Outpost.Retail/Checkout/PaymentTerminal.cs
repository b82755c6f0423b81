using System.Security.Cryptography;
using System.Text;
using Outpost.Retail.Pricing;

namespace Outpost.Retail.Checkout;

/// <summary>A request to take a card payment.</summary>
/// <param name="Amount">The amount.</param>
/// <param name="Reference">The basket, for the host's records.</param>
/// <param name="AllowOffline">Whether the terminal may approve without the payment host (the amount is under the store's floor limit).</param>
public sealed record PaymentRequest(Money Amount, string Reference, bool AllowOffline);

/// <summary>What a card payment came to.</summary>
public enum CardOutcome
{
    /// <summary>Approved by the payment host.</summary>
    Approved = 0,

    /// <summary>Approved by the terminal alone, to be forwarded to the host later.</summary>
    ApprovedOffline = 1,

    /// <summary>Declined (by the host or the card).</summary>
    Declined = 2,

    /// <summary>The host is unreachable and the terminal may not approve offline.</summary>
    HostUnavailable = 3,
}

/// <summary>The terminal's answer. The card number never leaves the terminal: only a token and the last four digits.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="CardToken">A token standing for the card.</param>
/// <param name="Last4">The last four digits.</param>
/// <param name="AuthCode">The approval code.</param>
/// <param name="Message">The terminal's words for a decline.</param>
public sealed record CardAuthorization(CardOutcome Outcome, string? CardToken, string? Last4, string? AuthCode, string Message);

/// <summary>The payment terminal (PIN pad) a till drives. The store never sees a card number.</summary>
public interface IPaymentTerminal
{
    /// <summary>Takes a payment from the card the customer presents.</summary>
    Task<CardAuthorization> AuthorizeAsync(PaymentRequest request, CancellationToken cancellationToken);

    /// <summary>Reverses an approved payment (a voided basket).</summary>
    Task<bool> ReverseAsync(string cardToken, string authCode, Money amount, CancellationToken cancellationToken);

    /// <summary>Forwards an offline approval to the payment host; null while the host is still unreachable.</summary>
    Task<bool?> ForwardAsync(string cardToken, string authCode, Money amount, CancellationToken cancellationToken);
}

/// <summary>
/// A terminal for tests, demos and benchmarks: a card is "presented" by number; the terminal tokenises it, keeps
/// the number to itself, approves online while <see cref="HostReachable"/>, offline when allowed, and declines
/// cards listed in <see cref="DeclinedCards"/>.
/// </summary>
public sealed class SimulatedPaymentTerminal : IPaymentTerminal
{
    private readonly Lock _gate = new();
    private string _card = "4000000000000002";
    private int _approvals;

    /// <summary>Whether the payment host answers.</summary>
    public bool HostReachable { get; set; } = true;

    /// <summary>Card numbers the host declines.</summary>
    public ISet<string> DeclinedCards { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Offline approvals the host has received, by token.</summary>
    public IList<(string Token, decimal Amount)> Forwarded { get; } = [];

    /// <summary>The card the next customer presents.</summary>
    public void Present(string cardNumber)
    {
        lock (_gate)
        {
            _card = cardNumber;
        }
    }

    /// <inheritdoc />
    public Task<CardAuthorization> AuthorizeAsync(PaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            var token = Token(_card);
            var last4 = _card[^4..];
            var code = "A" + (++_approvals).ToString("D5", System.Globalization.CultureInfo.InvariantCulture);
            if (!HostReachable)
            {
                return Task.FromResult(request.AllowOffline
                    ? new CardAuthorization(CardOutcome.ApprovedOffline, token, last4, "Y1" + code, "Approved offline")
                    : new CardAuthorization(CardOutcome.HostUnavailable, null, null, null, "The payment host cannot be reached"));
            }

            return Task.FromResult(DeclinedCards.Contains(_card)
                ? new CardAuthorization(CardOutcome.Declined, token, last4, null, "Declined by the card issuer")
                : new CardAuthorization(CardOutcome.Approved, token, last4, code, "Approved"));
        }
    }

    /// <inheritdoc />
    public Task<bool> ReverseAsync(string cardToken, string authCode, Money amount, CancellationToken cancellationToken) => Task.FromResult(true);

    /// <inheritdoc />
    public Task<bool?> ForwardAsync(string cardToken, string authCode, Money amount, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!HostReachable)
            {
                return Task.FromResult<bool?>(null);
            }

            Forwarded.Add((cardToken, amount.Amount));
            return Task.FromResult<bool?>(true);
        }
    }

    private static string Token(string card) => "tok_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("outpost-sim:" + card)))[..24];
}
