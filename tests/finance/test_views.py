"""Finance's pages: every one checks the role, answers bad input with a 4xx and a
message and writes nothing, and the exports stream CSV the accounting system reads."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from finance.forms import new_form_token
from finance.models import ClosingRequest, Invoice, LedgerEntry, PaymentMethod, RequestStatus
from orders.models import Status
from orders.roles import Role
from tests.factories import pdf_upload

from .conftest import EN, pay

pytestmark = pytest.mark.django_db


def page_urls(order):
    n = order.number
    return [
        reverse("finance:dashboard"),
        reverse("finance:request", args=[n]),
        reverse("finance:export_ledger") + "?start=2026-01-01&end=2026-01-31",
        reverse("finance:export_closed") + "?start=2026-01-01&end=2026-01-31",
    ]


def post_urls(order):
    n = order.number
    return [
        reverse(f"finance:{name}", args=[n])
        for name in (
            "payment",
            "refund",
            "charge",
            "invoice",
            "acknowledge",
            "send_back",
            "approve",
        )
    ]


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.LOGISTICS])
def test_finance_pages_refuse_every_other_role(client, received, users, role):
    client.force_login(users[role])
    for url in page_urls(received):
        assert client.get(url).status_code == 403, url
    for url in post_urls(received):
        assert client.post(url, {"token": new_form_token(), "amount": "1"}).status_code == 403, url
    assert LedgerEntry.objects.filter(kind="payment").count() == 0


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MANAGER])
def test_finance_and_managers_open_them(client, received, users, role):
    client.force_login(users[role])
    for url in page_urls(received):
        assert client.get(url).status_code == 200, url


def test_sales_has_its_queue_and_the_submit_but_warehouse_does_not(client, received, users):
    queue = reverse("finance:closing_requests")
    client.force_login(users[Role.WAREHOUSE])
    assert client.get(queue).status_code == 403
    assert client.post(reverse("finance:submit", args=[received.number])).status_code == 403
    client.force_login(users[Role.SALES])
    html = client.get(queue, **EN).text
    assert received.number in html
    response = client.post(
        reverse("finance:submit", args=[received.number]),
        {"token": new_form_token(), "note": "All here", "expected": "open"},
    )
    assert response.status_code == 302
    assert ClosingRequest.objects.get(order=received).status == RequestStatus.SUBMITTED


def test_sales_queue_shows_the_oldest_sent_back_first_and_counts_them_all(
    client, order_in, users, monkeypatch
):
    from feedback.services import confirm_receipt
    from finance import selectors
    from finance import services as finance

    monkeypatch.setattr(selectors, "QUEUE_ROWS", 2)
    orders = []
    for _ in range(3):
        order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
        confirm_receipt(order.pk, how="phone", by=users[Role.SALES])
        orders.append(order)
    # The newest is sent back: it comes first, before the two older open ones.
    finance.submit_request(orders[2].pk, by=users[Role.SALES])
    finance.send_back(orders[2].pk, by=users[Role.FINANCE], reason="Proof missing")
    client.force_login(users[Role.SALES])
    html = client.get(reverse("finance:closing_requests"), **EN).text
    section = html[html.index('id="with-sales"') : html.index('id="with-finance"')]
    shown = [o.number for o in orders if f'data-order="{o.number}"' in section]
    assert shown == [orders[0].number, orders[2].number]
    assert section.index(orders[2].number) < section.index(orders[0].number)
    assert "(3)" in section and "The oldest 2 of 3 requests." in section


def test_anonymous_visitors_are_sent_to_sign_in(client, received):
    response = client.get(reverse("finance:request", args=[received.number]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_payment_through_the_page(client, received, users):
    client.force_login(users[Role.FINANCE])
    method = PaymentMethod.objects.get(code="alipay")
    data = {
        "token": new_form_token(),
        "method": method.pk,
        "amount": "12.34",
        "happened_on": timezone.localdate().isoformat(),
        "reference": "ALI-2026-0001",
    }
    url = reverse("finance:payment", args=[received.number])
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # sent twice: recorded once
    entry = LedgerEntry.objects.get(order=received, kind="payment")
    assert (entry.amount, entry.method, entry.reference) == (
        Decimal("12.34"),
        method,
        "ALI-2026-0001",
    )
    assert entry.recorded_by == users[Role.FINANCE]
    html = client.get(reverse("finance:request", args=[received.number]), **EN).text
    assert "ALI-2026-0001" in html


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("payment", {"amount": "abc"}, "Enter a number."),
        ("payment", {"amount": "-5", "happened_on": "2026-01-01"}, "greater than or equal to 0.01"),
        ("payment", {"amount": "5", "happened_on": "2999-01-01"}, "cannot be in the future"),
        ("refund", {"refund_for": "problem_case", "amount": "5", "reason": "x"}, "problem case"),
        ("charge", {"charge_kind": "discount", "amount": "5"}, "Please give a reason."),
        ("charge", {"charge_kind": "freight", "amount": "-5"}, "Only an adjustment"),
        ("send_back", {"reason": ""}, "Please give a reason."),
        ("invoice", {"number": "", "amount": "5"}, "Enter the invoice number."),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_nothing_written(
    client, received, users, name, data, message
):
    from finance import services as finance

    if name == "send_back":
        finance.submit_request(received.pk, by=users[Role.SALES])
    status = ClosingRequest.objects.get(order=received).status
    client.force_login(users[Role.FINANCE])
    finance_entries = LedgerEntry.objects.count()
    response = client.post(
        reverse(f"finance:{name}", args=[received.number]),
        {"token": new_form_token(), **data},
        **EN,
    )
    assert response.status_code == 400
    assert message in response.text
    assert LedgerEntry.objects.count() == finance_entries
    assert not Invoice.objects.exists()
    assert ClosingRequest.objects.get(order=received).status == status


def test_a_token_that_is_not_one_is_refused(client, received, users):
    client.force_login(users[Role.FINANCE])
    response = client.post(
        reverse("finance:payment", args=[received.number]),
        {"token": "'; drop table", "amount": "5", "happened_on": "2026-01-01"},
        **EN,
    )
    assert response.status_code == 400
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_an_invoice_must_be_the_file_its_name_says(client, received, users):
    client.force_login(users[Role.FINANCE])
    url = reverse("finance:invoice", args=[received.number])
    base = {
        "type": 1,
        "number": "04400001",
        "amount": "10.00",
        "issued_on": timezone.localdate().isoformat(),
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile(
        "fapiao.pdf", b"<html>not a pdf</html>", content_type="application/pdf"
    )
    response = client.post(url, {**base, "token": new_form_token(), "document": fake}, **EN)
    assert response.status_code == 400
    assert "not the PDF, PNG or JPEG its name says" in response.text
    assert not Invoice.objects.exists()
    from finance.models import InvoiceType

    base["type"] = InvoiceType.objects.get(code="vat_general").pk
    response = client.post(url, {**base, "token": new_form_token(), "document": pdf_upload()})
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    download = client.get(reverse("finance:invoice_document", args=[invoice.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_a_manager_override_needs_a_reason_on_the_page(client, received, users):
    client.force_login(users[Role.FINANCE])
    url = reverse("finance:override", args=[received.number])
    assert (
        client.post(url, {"token": new_form_token(), "key": "invoice", "reason": "x"}).status_code
        == 403
    )
    client.force_login(users[Role.MANAGER])
    response = client.post(url, {"token": new_form_token(), "key": "invoice", "reason": ""}, **EN)
    assert response.status_code == 400
    assert not ClosingRequest.objects.get(order=received).overrides.exists()


def test_the_export_streams_the_ledger_as_csv(client, received, users):
    finance_user = users[Role.FINANCE]
    pay(received, Decimal("1.50"), by=finance_user, key="a")
    from finance import services as finance

    finance.record_payment(
        received.pk,
        finance.MoneyMovement(
            amount=Decimal("2.25"),
            happened_on=timezone.localdate(),
            method_id=PaymentMethod.objects.get(code="card").pk,
            reference='=HYPERLINK("http://evil")',
        ),
        by=finance_user,
        key="b",
    )
    client.force_login(finance_user)
    today = timezone.localdate().isoformat()
    response = client.get(reverse("finance:export_ledger"), {"start": today, "end": today})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    payments = [row for row in rows if row["kind"] == "payment"]
    assert [(r["order"], r["amount"]) for r in payments] == [
        (received.number, "1.50"),
        (received.number, "2.25"),
    ]
    assert payments[1]["reference"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1+1", "'+1+1"),
        ("-inf", "'-inf"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5.00", "-5.00"),
        ("+86 138", "'+86 138"),
        ("TRF 20261204", "TRF 20261204"),
        ("", ""),
    ],
)
def test_typed_text_that_a_spreadsheet_would_run_is_quoted(typed, written):
    from finance.exports import guard

    assert guard(typed) == written


def test_the_export_writes_every_row_once_across_chunks(client, received, users, monkeypatch):
    from finance import exports

    monkeypatch.setattr(exports, "CHUNK", 2)
    for n in range(5):
        pay(received, Decimal("1.00") + n, by=users[Role.FINANCE], key=f"chunk-{n}")
    client.force_login(users[Role.FINANCE])
    today = timezone.localdate().isoformat()
    response = client.get(reverse("finance:export_ledger"), {"start": today, "end": today})
    pieces = list(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(b"".join(pieces).decode())))
    entries = LedgerEntry.objects.filter(order=received).order_by("recorded_at", "pk")
    assert [int(row["entry"]) for row in rows] == [e.pk for e in entries]
    assert len(pieces) == -(-len(rows) // 2)  # a piece per 2 rows, the header with the first
    assert [r["amount"] for r in rows if r["kind"] == "payment"] == [
        "1.00",
        "2.00",
        "3.00",
        "4.00",
        "5.00",
    ]


def test_the_closed_orders_export_has_the_closed_order(client, in_review, users):
    from finance import services as finance

    finance.approve(in_review.pk, by=users[Role.FINANCE])
    client.force_login(users[Role.FINANCE])
    today = timezone.localdate().isoformat()
    response = client.get(reverse("finance:export_closed"), {"start": today, "end": today})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["order"], r["balance"]) for r in rows] == [(in_review.number, "0.00")]
    assert in_review.status == Status.DELIVERED  # the fixture's copy; the row says closed


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"start": "2026-02-01", "end": "2026-01-01"},
        {"start": "2024-01-01", "end": "2026-01-01"},
        {"start": "yesterday", "end": "2026-01-01"},
    ],
)
def test_a_bad_export_range_is_a_400(client, users, query):
    client.force_login(users[Role.FINANCE])
    response = client.get(reverse("finance:export_ledger"), query, **EN)
    assert response.status_code == 400
    assert "Nothing was exported" in response.text


def test_a_request_without_a_salesperson_shows_on_every_page(client, order_in, users):
    """An online order nobody took has no salesperson: its closing request has none."""
    from datetime import timedelta

    import time_machine

    from feedback.services import confirm_receipt
    from finance import selectors
    from finance import services as finance

    order = order_in(Status.DELIVERED)
    assert order.salesperson_id is None
    confirm_receipt(order.pk, how="customer")
    finance.submit_request(order.pk, by=users[Role.SALES])
    later = timezone.now() + selectors.closing_target() + timedelta(minutes=1)
    finance.escalate_closing_requests(now=later)
    client.force_login(users[Role.MANAGER])
    with time_machine.travel(later, tick=False):
        for url in [
            reverse("finance:dashboard"),
            reverse("finance:request", args=[order.number]),
            reverse("finance:closing_requests"),
            reverse("manager_dashboard"),
        ]:
            response = client.get(url, **EN)
            assert response.status_code == 200, url
            assert order.number in response.text, url
