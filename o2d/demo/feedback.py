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


# What the demo's customers answered: a happy one, a middling one and an unhappy one
# (damaged packing, late) whose low answers open follow-ups for Sales and Logistics.
SURVEY_ANSWERS = [
    (5, 10, "送货很快，包装也很好，谢谢！", {"confirmed_as_agreed": 1, "packaging": 5}),
    (4, 8, "", {"confirmed_as_agreed": 1, "arrived_on_time": 1, "packaging": 4}),
    (2, 3, "箱子压坏了，而且晚到了一天。", {"packaging": 1, "arrived_on_time": 0}),
]


def surveys(users):
    """The received orders' surveys, sent now (the demo does not wait the three days
    the settings say), and three of them answered."""
    from datetime import timedelta

    from django.utils import timezone

    from feedback import surveys as survey_services
    from feedback.models import Survey, SurveySettings

    config = SurveySettings.load()
    saved = config.send_after
    SurveySettings.objects.filter(pk=config.pk).update(send_after=timedelta(minutes=1))
    try:
        survey_services.send_surveys(now=timezone.now() + timedelta(minutes=1))
    finally:
        SurveySettings.objects.filter(pk=config.pk).update(send_after=saved)
    sent = list(Survey.objects.select_related("question_set").order_by("pk"))
    for survey, (score, recommend, comment, by_code) in zip(sent, SURVEY_ANSWERS, strict=False):
        questions = {q.code: q.pk for q in survey_services.asked_questions(survey)}
        survey_services.answer(
            survey,
            score=score,
            recommend=recommend,
            comment=comment,
            answers={
                questions[code]: value for code, value in by_code.items() if code in questions
            },
            now=timezone.now() + timedelta(minutes=2),
        )
