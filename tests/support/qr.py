"""Reading QR codes back, as a phone camera would: zxing-cpp on rendered images (PDFs via pypdfium2)."""
from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image


def codes_in_image(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def codes_in_png(data: bytes) -> list[zxingcpp.Barcode]:
    return codes_in_image(Image.open(io.BytesIO(data)))


def codes_in_pdf(data: bytes, dpi: int = 100) -> list[zxingcpp.Barcode]:
    document = pdfium.PdfDocument(data)
    found = []
    for page in document:
        found += codes_in_image(page.render(scale=dpi / 72).to_pil())
    return found


def texts(codes) -> set[str]:
    return {code.text for code in codes}
