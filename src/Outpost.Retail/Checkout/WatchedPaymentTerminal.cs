using Outpost.Retail.Pricing;

namespace Outpost.Retail.Checkout;

/// <summary>
/// A payment terminal that remembers what its last contact with the payment host said: an approval or a decline by
/// the host means it answered; an offline approval, an "unavailable" or a forward that could not go means it did not.
/// The store's health report carries it to HQ.
/// </summary>
public sealed class WatchedPaymentTerminal(IPaymentTerminal inner) : IPaymentTerminal
{
    private volatile string _host = "unknown";

    /// <summary><c>reachable</c>, <c>unreachable</c>, or <c>unknown</c> until a card is taken or a payment forwarded.</summary>
    public string Host => _host;

    /// <inheritdoc />
    public async Task<CardAuthorization> AuthorizeAsync(PaymentRequest request, CancellationToken cancellationToken)
    {
        var authorization = await inner.AuthorizeAsync(request, cancellationToken);
        _host = authorization.Outcome is CardOutcome.Approved or CardOutcome.Declined ? "reachable" : "unreachable";
        return authorization;
    }

    /// <inheritdoc />
    public Task<bool> ReverseAsync(string cardToken, string authCode, Money amount, CancellationToken cancellationToken) =>
        inner.ReverseAsync(cardToken, authCode, amount, cancellationToken);

    /// <inheritdoc />
    public async Task<bool?> ForwardAsync(string cardToken, string authCode, Money amount, CancellationToken cancellationToken)
    {
        var forwarded = await inner.ForwardAsync(cardToken, authCode, amount, cancellationToken);
        _host = forwarded is null ? "unreachable" : "reachable";
        return forwarded;
    }
}
