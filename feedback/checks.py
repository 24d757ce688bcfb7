"""Feedback's items of the closing checklist (orders.closing; registered in
FeedbackConfig.ready): receipt confirmed, no open problem case, no open return."""

from django.db.models import Exists
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy as ngettext

from orders.closing import Check, Condition

from .models import OPEN_RETURN_STATUSES, CaseStatus, ProblemCase, Receipt, ReturnRequest

RECEIPT = Condition(
    "receipt",
    _("Receipt confirmed"),
    lambda order: ~Exists(Receipt.objects.filter(order=order)),
)
PROBLEM_CASES = Condition(
    "problem_cases",
    _("No open problem case"),
    lambda order: Exists(ProblemCase.objects.filter(order=order, status=CaseStatus.OPEN)),
)
RETURNS = Condition(
    "returns",
    _("No open return"),
    lambda order: Exists(
        ReturnRequest.objects.filter(order=order, status__in=OPEN_RETURN_STATUSES)
    ),
)
CONDITIONS = (RECEIPT, PROBLEM_CASES, RETURNS)


def closing_checks(orders) -> dict:
    ids = [order.pk for order in orders]
    receipts = {r.order_id: r for r in Receipt.objects.filter(order__in=ids)}
    cases: dict[int, list[ProblemCase]] = {}
    for case in ProblemCase.objects.filter(order__in=ids).order_by("opened_at", "pk"):
        cases.setdefault(case.order_id, []).append(case)
    open_returns: dict[int, list[ReturnRequest]] = {}
    for request in ReturnRequest.objects.filter(
        order__in=ids, status__in=OPEN_RETURN_STATUSES
    ).order_by("requested_at", "pk"):
        open_returns.setdefault(request.order_id, []).append(request)
    checks = {}
    for order in orders:
        url = order.get_absolute_url()
        receipt = receipts.get(order.pk)
        open_cases = [c for c in cases.get(order.pk, []) if c.status == CaseStatus.OPEN]
        case_links = tuple(
            (
                _("Problem case %(pk)s: %(kind)s (%(status)s)")
                % {"pk": c.pk, "kind": c.get_kind_display(), "status": c.get_status_display()},
                f"{url}#case-{c.pk}",
            )
            for c in cases.get(order.pk, [])
        )
        checks[order.pk] = [
            Check(
                RECEIPT.key,
                RECEIPT.label,
                receipt is not None,
                ""
                if receipt
                else _("The customer has not confirmed receipt, and no one confirmed it by phone."),
                ((_("Receipt confirmation"), f"{url}#receipt-staff-panel"),) if receipt else (),
            ),
            Check(
                PROBLEM_CASES.key,
                PROBLEM_CASES.label,
                not open_cases,
                ngettext(
                    "%(count)d problem case still open.",
                    "%(count)d problem cases still open.",
                    len(open_cases),
                )
                % {"count": len(open_cases)}
                if open_cases
                else "",
                case_links or ((_("Problem cases"), reverse("feedback:cases")),),
            ),
            _returns_check(url, open_returns.get(order.pk, [])),
        ]
    return checks


def _returns_check(url, open_returns) -> Check:
    return Check(
        RETURNS.key,
        RETURNS.label,
        not open_returns,
        ngettext(
            "%(count)d return still open.",
            "%(count)d returns still open.",
            len(open_returns),
        )
        % {"count": len(open_returns)}
        if open_returns
        else "",
        tuple(
            (
                _("Return %(name)s (%(status)s)")
                % {"name": r.rma_number or r.pk, "status": r.get_status_display()},
                f"{url}#return-{r.pk}",
            )
            for r in open_returns
        ),
    )
