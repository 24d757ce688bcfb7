"""Finance's part: the customers' payments, and the closing of the demo orders that
reach step 7's end."""

from datetime import timedelta

from django.utils import timezone

from .clock import clock_at


def pay(order, users):
    from finance import services as finance
    from finance.models import Account, PaymentMethod

    account = Account.objects.get(order=order)
    finance.record_payment(
        order.pk,
        finance.MoneyMovement(
            amount=account.balance,
            happened_on=timezone.localdate(),
            reference=f"DEMO{order.pk:06d}",
            method_id=PaymentMethod.objects.get(code="bank_transfer").pk,
        ),
        by=users["finance"],
        key=f"demo-payment-{order.pk}",
    )
    return account


def close(order, users, at):
    """Step 7 as it happens: the customer confirms receipt, Finance records the
    payment and the fapiao, Sales submits the request, Finance approves it."""
    from django.core.files.base import ContentFile

    from feedback import services as feedback
    from finance import services as finance
    from finance.models import InvoiceType

    with clock_at(at - timedelta(minutes=30)):
        feedback.confirm_receipt(order.pk, how="customer")
        account = pay(order, users)
        finance.record_invoice(
            order.pk,
            finance.InvoiceDetails(
                type_id=InvoiceType.objects.get(code="electronic").pk,
                number=f"{order.pk:08d}",
                amount=account.charged,
                issued_on=timezone.localdate(),
            ),
            ContentFile(b"%PDF-1.4\n% demo fapiao\n%%EOF\n", name="fapiao.pdf"),
            by=users["finance"],
            key=f"demo-invoice-{order.pk}",
        )
        finance.submit_request(order.pk, by=users["sales"])
    with clock_at(at):
        finance.acknowledge_request(order.pk, by=users["finance"])
        finance.approve(order.pk, by=users["finance"])
