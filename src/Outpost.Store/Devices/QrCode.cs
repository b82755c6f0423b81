using QRCoder;

namespace Outpost.Store.Devices;

/// <summary>QR codes for pairing, drawn by QRCoder as SVG (no script, no external image).</summary>
internal static class QrCode
{
    /// <summary>An SVG of <paramref name="text"/> (error correction M: readable from a screen at an angle).</summary>
    public static string Svg(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        using var svg = new SvgQRCode(data);
        return svg.GetGraphic(4);
    }
}
