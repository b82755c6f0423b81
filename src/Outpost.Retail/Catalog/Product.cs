namespace Outpost.Retail.Catalog;

/// <summary>A product as the store's catalog holds it.</summary>
/// <param name="Gtin">Its GTIN.</param>
/// <param name="Name">Its name.</param>
/// <param name="Category">Its category.</param>
/// <param name="TaxClass">Its tax class.</param>
/// <param name="Unit">Each or kilogram.</param>
/// <param name="ImageUrl">An optional image.</param>
/// <param name="Attributes">Free attributes.</param>
public sealed record Product(Gtin Gtin, string Name, string Category, string TaxClass, SaleUnit Unit, string? ImageUrl, IReadOnlyDictionary<string, string> Attributes);
