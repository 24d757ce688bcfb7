"""The warehouse's printed documents for an order: the packing slip and the shipping labels.

Both are Django templates turned into PDF by WeasyPrint, in the active language. The
barcodes are vector SVG drawn at a fixed physical size, so a scanner reads them at any
printer resolution.
"""

from django.conf import settings
from django_countries import countries

from orders import printing

from . import selectors


def _context(order, packages, barcode_module_width: float, barcode_height: float) -> dict:
    status_url = settings.SITE_URL.rstrip("/") + order.get_public_url()
    return {
        "order": order,
        "packages": packages,
        "country": countries.name(order.delivery_country) or order.delivery_country,
        "status_url": status_url,
        "barcode": printing.data_uri(
            printing.code128_svg(order.number, barcode_module_width, barcode_height)
        ),
        "qr": printing.data_uri(printing.qr_svg(status_url)),
    }


def packing_slip_pdf(order) -> bytes:
    """The A4 packing slip: who gets what, the delivery needs, the lines to tick off and
    the packages of the current picking round."""
    context = _context(order, selectors.packages(order), 0.35, 12.0)
    context["lines"] = list(order.lines.all())
    return printing.render_pdf("warehouse/pdf/packing_slip.html", context)


def labels_pdf(order, packages=None) -> bytes:
    """One 4 x 6 inch shipping label per package of the current picking round
    (``packages``: those packages, when the caller has read them already).

    Raises ValueError when the order has no packages yet: a label always belongs to a
    package, and its "k of n" would be meaningless without them.
    """
    packages = selectors.packages(order) if packages is None else packages
    if not packages:
        raise ValueError(f"Order {order.number} has no packages to label.")
    return printing.render_pdf("warehouse/pdf/label.html", _context(order, packages, 0.5, 16.0))
