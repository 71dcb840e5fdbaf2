"""Reading QR codes back, as a phone camera would: zxing-cpp on rendered images (PDFs via pypdfium2)."""
from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from praatmee_site.campaigns.posters import PDFIUM_LOCK


def codes_in_image(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def codes_in_png(data: bytes) -> list[zxingcpp.Barcode]:
    return codes_in_image(Image.open(io.BytesIO(data)))


def pdf_pages(data: bytes, dpi: int = 100) -> list[tuple[tuple[float, float], Image.Image]]:
    """Every page of a PDF: its size in points and the page rendered at `dpi`, as a print shop would.
    Under the site's pdfium lock (PDFium is not thread-safe, and a live server may render beside us)."""
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            pages = []
            for page in document:
                bitmap = page.render(scale=dpi / 72)
                try:
                    pages.append((page.get_size(), bitmap.to_pil().convert("RGB")))
                finally:
                    bitmap.close()
        finally:
            document.close()  # and its pages with it
    return pages


def codes_in_pdf(data: bytes, dpi: int = 100) -> list[zxingcpp.Barcode]:
    return [code for _size, image in pdf_pages(data, dpi) for code in codes_in_image(image)]


def texts(codes) -> set[str]:
    return {code.text for code in codes}
