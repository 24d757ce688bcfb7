"""Problem reports: a case for Sales with details and photos, opened once, resolved
with an answer the customer is emailed. Photos are checked for what they contain."""

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from feedback import services
from feedback.models import CaseStatus, ProblemCase, ProblemKind, ProblemPhoto, Receipt
from feedback.photos import check_photo
from orders import emails
from orders.models import Notification, NotificationKind, OrderEvent, ProcessStep, Status
from orders.roles import Role
from orders.services import OrderActionError, TransitionForbidden, TransitionNotAllowed
from tests.factories import CustomerFactory

from .conftest import image_bytes, photo, stored_files


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English; the site's default language is zh-hans."""
    with translation.override("en"):
        yield


def report(order, *, key="a" * 32, kind=ProblemKind.DAMAGED, details="杯子碎了两个", photos=()):
    return services.report_problem(
        order.pk, kind=kind, details=details, photos=list(photos), key=key
    )


# ---------------------------------------------------------------------------
# Photos


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_jpeg_png_and_webp_photos_pass_by_their_content(fmt, content_type):
    # The name and the browser's claimed type do not count: only the content.
    checked = check_photo(photo(name="IMG.txt", fmt=fmt, content_type="text/plain"))
    assert (checked.content_type, checked.width, checked.height) == (content_type, 64, 48)


@pytest.mark.parametrize(
    "content",
    [
        b"just some text pretending to be a photo",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"%PDF-1.4\n%...",
        image_bytes("GIF"),
        image_bytes("BMP"),
        image_bytes("JPEG", size=(300, 300))[:100],  # cut inside its header
    ],
    ids=["text", "svg", "pdf", "gif", "bmp", "cut-jpeg"],
)
def test_anything_but_a_whole_jpeg_png_or_webp_is_refused(content):
    with pytest.raises(ValidationError) as refused:
        check_photo(photo(name="holiday.jpg", content=content))
    assert "holiday.jpg" in refused.value.messages[0]
    assert "JPEG, PNG or WebP" in refused.value.messages[0]


def test_a_photo_cut_short_is_refused_when_pillow_is_strict(monkeypatch):
    # WeasyPrint, once imported, tells Pillow to accept truncated images everywhere
    # (ImageFile.LOAD_TRUNCATED_IMAGES); Pillow's own default is strict.
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    with pytest.raises(ValidationError, match="JPEG, PNG or WebP"):
        check_photo(photo(content=image_bytes("JPEG", size=(300, 300))[:700]))


def test_a_photo_over_5_mb_is_refused_before_it_is_read():
    big = SimpleUploadedFile("big.jpg", image_bytes() + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(ValidationError, match="larger than 5 MB"):
        check_photo(big)


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        check_photo(SimpleUploadedFile("empty.jpg", b""))


def test_a_small_file_that_unpacks_into_a_huge_image_is_refused():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 5 * 1024 * 1024
    with pytest.raises(ValidationError, match="too many pixels"):
        check_photo(SimpleUploadedFile("bomb.png", buffer.getvalue()))


# ---------------------------------------------------------------------------
# Reporting


@pytest.mark.django_db
def test_a_report_opens_a_case_for_the_salesperson_with_photos(delivered, users, _media):
    before = timezone.now()
    photos = [check_photo(photo()), check_photo(photo(name="b.png", fmt="PNG"))]
    case, created = report(delivered, photos=photos)
    assert created
    assert (case.kind, case.details, case.status) == ("damaged", "杯子碎了两个", "open")
    assert case.owner == users[Role.SALES]
    # Due within the receipt step's follow-up time; 24 hours when the admin set none.
    assert before + timedelta(hours=24) <= case.due_at <= timezone.now() + timedelta(hours=24)
    items = list(case.photos.all())
    assert [p.content_type for p in items] == ["image/jpeg", "image/png"]
    # Stored by order under a random name with the suffix of what was found inside,
    # never the uploader's file name.
    folder = f"problem-photos/{delivered.number}/"
    assert re.fullmatch(re.escape(folder) + r"[0-9a-f]{32}\.jpg", items[0].image.name)
    assert re.fullmatch(re.escape(folder) + r"[0-9a-f]{32}\.png", items[1].image.name)
    assert len(stored_files(_media)) == 2
    # The report does not confirm receipt.
    assert not Receipt.objects.exists()
    event = OrderEvent.objects.get(order=delivered, code="problem_reported_damaged")
    assert event.public and event.note == ""
    with translation.override("en"):
        assert event.message == "Problem reported: something arrived damaged"


@pytest.mark.django_db
def test_the_response_time_is_the_receipt_steps_follow_up_time(delivered):
    ProcessStep.objects.filter(code="receipt").update(follow_up_within=timedelta(hours=4))
    case, _ = report(delivered)
    assert case.due_at == case.opened_at + timedelta(hours=4)


@pytest.mark.django_db
def test_the_customer_gets_an_acknowledgement_in_their_language(order_in):
    delivered = order_in(Status.DELIVERED, customer=CustomerFactory(language="en"))
    case, _ = report(delivered, kind=ProblemKind.MISSING)
    notification = Notification.objects.get(
        order=delivered, kind=NotificationKind.PROBLEM_RECEIVED, key=str(case.pk)
    )
    assert emails.deliver(notification.pk)
    message = mail.outbox[-1]
    assert message.to == [delivered.customer.email]
    assert delivered.number in message.subject
    assert message.subject == f"Order {delivered.number}: we received your report"
    number = delivered.number
    assert f"We received your report about your order {number}: something is missing." in (
        message.body
    )
    assert delivered.get_public_url() in message.body
    assert "杯子碎了两个" not in message.body  # their words stay on the case


@pytest.mark.django_db
def test_the_same_form_submitted_twice_opens_one_case(delivered, _media):
    first, created = report(delivered, photos=[check_photo(photo())])
    again, created_again = report(delivered, photos=[check_photo(photo())])
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert ProblemCase.objects.count() == 1
    assert ProblemPhoto.objects.count() == 1
    assert len(stored_files(_media)) == 1
    assert Notification.objects.filter(kind=NotificationKind.PROBLEM_RECEIVED).count() == 1


@pytest.mark.django_db
def test_a_second_report_while_one_is_open_is_refused_and_leaves_no_files(delivered, _media):
    report(delivered, key="a" * 32)
    with pytest.raises(TransitionNotAllowed):
        report(delivered, key="b" * 32, photos=[check_photo(photo())])
    assert ProblemCase.objects.count() == 1
    assert stored_files(_media) == []


@pytest.mark.django_db
def test_after_a_resolution_a_new_problem_can_be_reported(delivered, users):
    case, _ = report(delivered, key="a" * 32)
    services.resolve_case(case.pk, by=users[Role.SALES], resolution="已补发")
    second, created = report(delivered, key="b" * 32, kind=ProblemKind.WRONG_ITEM)
    assert created and second.pk != case.pk


@pytest.mark.django_db
def test_a_problem_can_be_reported_after_receipt_was_confirmed(delivered):
    from feedback.models import ReceiptMethod

    services.confirm_receipt(delivered.pk, how=ReceiptMethod.CUSTOMER)
    _case, created = report(delivered)
    assert created


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [Status.PLACED, Status.CONFIRMED, Status.SHIPPED, Status.CLOSED, Status.CANCELLED]
)
def test_reports_are_refused_unless_the_order_is_delivered(order_in, status):
    order = order_in(status)
    with pytest.raises(TransitionNotAllowed):
        report(order)
    assert not ProblemCase.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "broken_heart"}, "Choose what is wrong"),
        ({"details": "   "}, "describe the problem"),
        ({"details": "x" * 4001}, "at most 4000"),
        ({"key": ""}, "reload the page"),
    ],
)
def test_bad_reports_are_refused_with_a_message(delivered, fields, message):
    with pytest.raises(OrderActionError, match=message):
        report(delivered, **fields)
    assert not ProblemCase.objects.exists()


@pytest.mark.django_db
def test_more_than_five_photos_are_refused(delivered, _media):
    photos = [check_photo(photo()) for _ in range(6)]
    with pytest.raises(OrderActionError, match="at most 5 photos"):
        report(delivered, photos=photos)
    assert stored_files(_media) == []


@pytest.mark.django_db
def test_a_failure_while_storing_leaves_no_case_and_no_files(delivered, _media, monkeypatch):
    calls = []

    def fail_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    original = ProblemPhoto.save
    monkeypatch.setattr(ProblemPhoto, "save", fail_on_second)
    with pytest.raises(RuntimeError):
        report(delivered, photos=[check_photo(photo()), check_photo(photo())])
    assert not ProblemCase.objects.exists()
    assert not OrderEvent.objects.filter(code__startswith="problem").exists()
    assert stored_files(_media) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_and_different_reports_open_one_case(order_in, _media):
    order = order_in(Status.DELIVERED)
    barrier = threading.Barrier(10)
    results, errors = [], []

    def submit(index):
        try:
            barrier.wait()
            key = "a" * 32 if index < 5 else f"{index:032d}"
            case, created = report(order, key=key, photos=[check_photo(photo())])
            results.append((case.pk, created))
        except TransitionNotAllowed:
            results.append((None, False))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(created for _, created in results) == 1
    assert ProblemCase.objects.count() == 1
    assert ProblemPhoto.objects.count() == 1
    assert len(stored_files(_media)) == 1
    assert OrderEvent.objects.filter(code__startswith="problem_reported").count() == 1


# ---------------------------------------------------------------------------
# Resolving


@pytest.mark.django_db
def test_sales_resolves_a_case_and_the_customer_is_emailed(delivered, users):
    case, _ = report(delivered)
    resolved = services.resolve_case(
        case.pk, by=users[Role.SALES], resolution="  已寄出新杯子 & 退回旧的  "
    )
    assert resolved.status == CaseStatus.RESOLVED
    assert (resolved.resolved_by, resolved.resolution) == (
        users[Role.SALES],
        "已寄出新杯子 & 退回旧的",
    )
    event = OrderEvent.objects.get(order=delivered, code="problem_resolved")
    assert (event.actor, event.public) == (users[Role.SALES], True)
    notification = Notification.objects.get(kind=NotificationKind.PROBLEM_RESOLVED)
    assert emails.deliver(notification.pk)
    body = mail.outbox[-1].body
    assert "已寄出新杯子 & 退回旧的" in body  # plain text is not HTML-escaped
    assert delivered.get_public_url() in body


@pytest.mark.django_db
def test_resolving_twice_is_refused(delivered, users):
    case, _ = report(delivered)
    services.resolve_case(case.pk, by=users[Role.SALES], resolution="done")
    with pytest.raises(services.AlreadyResolved):
        services.resolve_case(case.pk, by=users[Role.MANAGER], resolution="again")
    case.refresh_from_db()
    assert case.resolution == "done"
    assert OrderEvent.objects.filter(code="problem_resolved").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.LOGISTICS, Role.FINANCE])
def test_only_sales_resolves(delivered, users, role):
    case, _ = report(delivered)
    with pytest.raises(TransitionForbidden):
        services.resolve_case(case.pk, by=users[role], resolution="done")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize("resolution", ["", "   ", "x" * 4001])
def test_a_resolution_needs_words(delivered, users, resolution):
    case, _ = report(delivered)
    with pytest.raises(OrderActionError):
        services.resolve_case(case.pk, by=users[Role.SALES], resolution=resolution)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_case_and_a_resolution_without_words(delivered):
    from django.db import IntegrityError, transaction

    report(delivered)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProblemCase.objects.create(
            order=delivered,
            kind="missing",
            details="x",
            due_at=timezone.now(),
            submission_key="z" * 32,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ProblemCase.objects.filter(order=delivered).update(
            status="resolved", resolved_at=timezone.now(), resolution=""
        )
