"""Printed documents, shared by the departments (the warehouse's packing slip and
labels, the return label): Code 128 and QR codes as vector SVG drawn at a fixed
physical size, so a scanner reads them at any printer resolution, and templates
turned into PDF by WeasyPrint that may reach nothing but data: URLs."""

import base64
from pathlib import Path

import barcode
import qrcode
from barcode.writer import SVGWriter
from django.template.loader import render_to_string
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage
from weasyprint import HTML, URLFetcher

_BASE_URL = str(Path(__file__).resolve().parent)


def code128_svg(text: str, module_width: float = 0.4, module_height: float = 15.0) -> str:
    """A Code 128 barcode of ``text`` as SVG, sized in millimetres.

    ``module_width`` (the narrowest bar, in mm) decides whether a scanner can read it:
    0.25 mm is the usual minimum for label printers, so the defaults leave a margin.
    The quiet zone of ten modules on each side is part of the drawing. The writer's own
    text is left out: the templates print the number in a larger, clearer font.
    """
    options = {
        "module_width": module_width,
        "module_height": module_height,
        "quiet_zone": 10 * module_width,
        "write_text": False,
        "compress": True,
        "with_doctype": False,
    }
    code = barcode.get("code128", text, writer=SVGWriter())
    return code.render(options).decode()


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as scalable SVG (it has a viewBox; CSS sets its size)."""
    image = qrcode.make(
        text,
        image_factory=SvgPathImage,
        error_correction=ERROR_CORRECT_M,
    )
    return image.to_string(encoding="unicode")


def data_uri(svg: str) -> str:
    # An <img> source rather than inline markup: nothing from the order reaches the
    # page unescaped, and WeasyPrint still draws the SVG as vectors.
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def render_pdf(template: str, context: dict) -> bytes:
    """A Django template rendered to PDF by WeasyPrint, in the active language."""
    html = render_to_string(template, context)
    # The templates reference nothing outside themselves; refusing every scheme but
    # data: keeps a rendering from ever reaching the network or the file system.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, base_url=_BASE_URL, url_fetcher=fetcher).write_pdf()
