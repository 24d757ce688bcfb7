"""The warehouse's printed documents for an order: the packing slip and the shipping labels.

Both are Django templates turned into PDF by WeasyPrint, in the active language. The
barcodes are vector SVG drawn at a fixed physical size, so a scanner reads them at any
printer resolution.
"""

import base64
from pathlib import Path

import barcode
import qrcode
from barcode.writer import SVGWriter
from django.conf import settings
from django.template.loader import render_to_string
from django_countries import countries
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage
from weasyprint import HTML, URLFetcher

from . import selectors

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


def _data_uri(svg: str) -> str:
    # An <img> source rather than inline markup: nothing from the order reaches the
    # page unescaped, and WeasyPrint still draws the SVG as vectors.
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _render(template: str, context: dict) -> bytes:
    html = render_to_string(template, context)
    # The templates reference nothing outside themselves; refusing every scheme but
    # data: keeps a rendering from ever reaching the network or the file system.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, base_url=_BASE_URL, url_fetcher=fetcher).write_pdf()


def _context(order, packages, barcode_module_width: float, barcode_height: float) -> dict:
    status_url = settings.SITE_URL.rstrip("/") + order.get_public_url()
    return {
        "order": order,
        "packages": packages,
        "country": countries.name(order.delivery_country) or order.delivery_country,
        "status_url": status_url,
        "barcode": _data_uri(code128_svg(order.number, barcode_module_width, barcode_height)),
        "qr": _data_uri(qr_svg(status_url)),
    }


def packing_slip_pdf(order) -> bytes:
    """The A4 packing slip: who gets what, the delivery needs, the lines to tick off and
    the packages of the current picking round."""
    context = _context(order, selectors.packages(order), 0.35, 12.0)
    context["lines"] = list(order.lines.all())
    return _render("warehouse/pdf/packing_slip.html", context)


def labels_pdf(order, packages=None) -> bytes:
    """One 4 x 6 inch shipping label per package of the current picking round
    (``packages``: those packages, when the caller has read them already).

    Raises ValueError when the order has no packages yet: a label always belongs to a
    package, and its "k of n" would be meaningless without them.
    """
    packages = selectors.packages(order) if packages is None else packages
    if not packages:
        raise ValueError(f"Order {order.number} has no packages to label.")
    return _render("warehouse/pdf/label.html", _context(order, packages, 0.5, 16.0))
