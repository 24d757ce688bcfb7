"""After delivery: receipts confirmed or a problem reported, closing requests at each
stage, and returns."""

from orders.models import Order, Status

from .finance import pay


def receipts(users):
    """Delivered orders: one confirmed by phone (its closing request is with Sales,
    and the customer asks to return a unit), one with a problem reported (and an
    approved exchange), one submitted to Finance, one in review blocked by the
    missing invoice, one sent back to Sales; the last waits for the customer."""
    from feedback import services as feedback
    from finance import services as finance

    delivered = list(Order.objects.filter(status=Status.DELIVERED).order_by("pk")[:5])
    if len(delivered) < 5:
        return
    for order in (delivered[0], *delivered[2:]):
        feedback.confirm_receipt(
            order.pk, how="phone", by=users["sales"], note="客户电话确认已收到全部商品。"
        )
    feedback.report_problem(
        delivered[1].pk,
        kind="damaged",
        details="保温杯外包装破损，杯身有凹痕。",
        photos=[],
        key="demo-problem",
    )
    submitted, blocked, sent_back = delivered[2:]
    for order in (submitted, blocked, sent_back):
        finance.submit_request(order.pk, by=users["sales"], note="发票随货寄出，客户已付款。")
    pay(blocked, users)
    finance.acknowledge_request(blocked.pk, by=users["finance"])
    finance.send_back(
        sent_back.pk, by=users["finance"], reason="请补充客户的付款凭证（银行回单）。"
    )
    return_requests(delivered, users)


def return_requests(delivered, users):
    """A return request waiting for Sales (the customer changed their mind), and an
    approved exchange of the damaged goods (its label can be printed)."""
    from feedback import returns

    asked, damaged = delivered[0], delivered[1]
    returns.request_return(
        asked.pk,
        reason_code="changed_mind",
        quantities={asked.lines.order_by("pk").first().pk: 1},
        details="颜色和图片不太一样，想退一件。",
        key="demo-return-asked",
    )
    request, _created = returns.request_return(
        damaged.pk,
        reason_code="damaged",
        quantities={damaged.lines.order_by("pk").first().pk: 1},
        details="外包装破损，商品有凹痕。",
        key="demo-return-damaged",
    )
    returns.approve_return(
        request.pk,
        by=users["sales"],
        outcome="exchange",
        answer="收到退货后我们会马上寄出新的商品。",
    )
