"""Reading QR codes back, as a phone camera would: zxing-cpp on rendered images (PDFs via posters.rendered_pages)."""
from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from praatmee_site.campaigns.posters import rendered_pages


def codes_in_image(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def codes_in_png(data: bytes) -> list[zxingcpp.Barcode]:
    return codes_in_image(Image.open(io.BytesIO(data)))


def codes_in_pdf(data: bytes, dpi: int = 100) -> list[zxingcpp.Barcode]:
    return [code for _size, image in rendered_pages(data, dpi) for code in codes_in_image(image)]


def texts(codes) -> set[str]:
    return {code.text for code in codes}
