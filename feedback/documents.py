"""The return label: a 4 x 6 inch label in Chinese for the parcel (the RMA number as a
Code 128, a QR code of the order's status link, the return address, the sender and
the goods), then the instructions in the customer's language."""

from django.conf import settings
from django.utils import translation

from orders import printing

from .models import ReturnAddress, ReturnOutcome, ReturnRequest, ReturnStatus


def has_label(request: ReturnRequest) -> bool:
    """Approved returns whose goods come back have a label (not "keep the goods")."""
    return (
        request.status == ReturnStatus.APPROVED and request.outcome != ReturnOutcome.PARTIAL_REFUND
    )


def return_label_pdf(request: ReturnRequest) -> bytes:
    order = request.order
    status_url = settings.SITE_URL.rstrip("/") + order.get_public_url()
    context = {
        "request": request,
        "order": order,
        "lines": [rl for rl in request.lines.select_related("line") if rl.approved_quantity],
        "address": ReturnAddress.current(),
        "barcode": printing.data_uri(printing.code128_svg(request.rma_number, 0.45, 16.0)),
        "qr": printing.data_uri(printing.qr_svg(status_url)),
        "status_url": status_url,
        "customer_language": order.contact_language or order.customer.language or "zh-hans",
    }
    # The label is read by Chinese carriers and warehouse staff: always in Chinese;
    # the instructions page switches to the customer's language in the template.
    with translation.override("zh-hans"):
        return printing.render_pdf("feedback/pdf/return_label.html", context)
