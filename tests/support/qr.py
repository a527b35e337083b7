"""Reading QR codes the way a phone would: from the pixel matrix a screen or widget draws."""

from __future__ import annotations

import zxingcpp
from PIL import Image


def decode_qr(pixels: list[list[bool]], scale: int = 4) -> list[str]:
    """What a QR reader sees in a pixel matrix (True = dark), each module ``scale`` pixels wide."""
    height, width = len(pixels), len(pixels[0])
    image = Image.new("L", (width * scale, height * scale), 255)
    for y, row in enumerate(pixels):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    return [
        barcode.text
        for barcode in zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
    ]
