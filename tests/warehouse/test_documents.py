"""The printed documents: real PDFs, checked with poppler (page count, size, text) and
with a real barcode reader (zbar) on the rendered pages, as a scanner would see them."""

import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone, translation

from orders.roles import Role
from orders.services import DeliveryDetails, LineRequest
from tests.factories import ProductFactory, place
from warehouse.documents import labels_pdf, packing_slip_pdf
from warehouse.models import Fulfilment, Package

INSTRUCTIONS = "请提前30分钟电话联系 Call 30 minutes ahead"
SHENZHEN = DeliveryDetails(
    recipient="张伟",
    phone="+8613800138000",
    province="广东省",
    city="深圳市",
    district="南山区",
    street="科技园路1号",
    postal_code="518057",
)


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def pdfinfo(pdf: bytes) -> dict:
    out = subprocess.run(
        [tool("pdfinfo"), "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    width, height = re.match(r"\s*([\d.]+) x ([\d.]+) pts", info["Page size"]).groups()
    return {"pages": int(info["Pages"]), "size": (round(float(width)), round(float(height)))}


def pdftext(pdf: bytes, tmp_path) -> str:
    """The PDF's text with all whitespace removed, so line breaks cannot split a match."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    return "".join(out.split())


def scanned(pdf: bytes, tmp_path, page=1) -> dict[str, set[str]]:
    """What a barcode reader finds on one page printed at 300 dpi: {symbology: {data}}."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page), "-singlefile"]
    subprocess.run(
        [tool("pdftoppm"), "-r", "300", "-png", *pages, str(path), str(tmp_path / "page")],
        check=True,
    )
    # Without --raw zbar prefixes each symbol with its type, e.g. "CODE-128:20250101-0001".
    out = subprocess.run(
        [tool("zbarimg"), "-q", str(tmp_path / "page.png")], capture_output=True, check=False
    ).stdout.decode()
    found = {}
    for line in out.splitlines():
        kind, data = line.split(":", 1)
        found.setdefault(kind, set()).add(data)
    return found


@pytest.fixture
def order(users):
    """A placed order with a Chinese address, the customer's delivery needs and the
    warehouse's fulfilment. The documents do not look at the order's status, so the
    order is not driven through the workflow."""
    order = place(
        delivery=SHENZHEN,
        lines=[
            LineRequest(ProductFactory(sku="TEA-250", name="龙井绿茶 250g"), 2),
            LineRequest(ProductFactory(sku="CUP-W", name="Tea cup, white"), 6),
        ],
        requested_date=timezone.localdate() + timedelta(days=4),
        requested_window="morning",
        special_instructions=INSTRUCTIONS,
    )
    Fulfilment.objects.create(order=order, acknowledged_by=users[Role.WAREHOUSE], round=1)
    return order


def add_packages(order, by, count, round=1):
    for i in range(count):
        Package.objects.create(
            order=order,
            round=round,
            weight_kg=Decimal("1.250") + i,
            length_cm=30,
            width_cm=20,
            height_cm=10,
            by=by,
        )


def status_url(order):
    return settings.SITE_URL.rstrip("/") + order.get_public_url()


@pytest.mark.django_db
def test_labels_have_one_4x6_inch_page_per_package_of_the_current_round(order, users):
    add_packages(order, users[Role.WAREHOUSE], 1, round=1)
    Fulfilment.objects.filter(order=order).update(round=2)
    add_packages(order, users[Role.WAREHOUSE], 3, round=2)

    with translation.override("en"):
        pdf = labels_pdf(order)

    assert pdf.startswith(b"%PDF")
    assert pdfinfo(pdf) == {"pages": 3, "size": (288, 432)}


@pytest.mark.django_db
def test_label_shows_package_count_and_chinese_address(order, users, tmp_path):
    add_packages(order, users[Role.WAREHOUSE], 2)
    with translation.override("en"):
        text = pdftext(labels_pdf(order), tmp_path)
    assert "Package1of2" in text
    assert "Package2of2" in text
    assert "张伟" in text
    assert "广东省深圳市南山区科技园路1号" in text
    assert "".join(INSTRUCTIONS.split()) in text


@pytest.mark.django_db
def test_label_barcodes_decode_to_order_number_and_status_link(order, users, tmp_path):
    add_packages(order, users[Role.WAREHOUSE], 2)
    pdf = labels_pdf(order)

    for page in (1, 2):
        found = scanned(pdf, tmp_path, page)
        assert order.number in found.get("CODE-128", set())
        assert status_url(order) in found.get("QR-Code", set())


@pytest.mark.django_db
def test_long_address_and_instructions_stay_on_one_label(users):
    long = DeliveryDetails(
        recipient="张伟（代收：前台 李娜娜）" * 5,
        phone="+8613800138000",
        province="广东省",
        city="深圳市",
        district="南山区",
        street="科技园路1号 腾讯滨海大厦 北塔 23 楼 2301 室 " * 5,
    )
    order = place(delivery=long, special_instructions="易碎品，请轻拿轻放。" * 60)
    Fulfilment.objects.create(order=order, acknowledged_by=users[Role.WAREHOUSE])
    add_packages(order, users[Role.WAREHOUSE], 2)

    assert pdfinfo(labels_pdf(order))["pages"] == 2


@pytest.mark.django_db
def test_packing_slip_is_a4_with_order_details_and_scannable_codes(order, users, tmp_path):
    add_packages(order, users[Role.WAREHOUSE], 2)
    with translation.override("zh-hans"):
        pdf = packing_slip_pdf(order)

    assert pdf.startswith(b"%PDF")
    assert pdfinfo(pdf) == {"pages": 1, "size": (595, 842)}
    text = pdftext(pdf, tmp_path)
    assert order.number in text
    assert "".join(INSTRUCTIONS.split()) in text
    assert "张伟" in text
    assert "龙井绿茶250g" in text
    assert "TEA-250" in text
    found = scanned(pdf, tmp_path)
    assert order.number in found.get("CODE-128", set())
    assert status_url(order) in found.get("QR-Code", set())


@pytest.mark.django_db
def test_packing_slip_embeds_a_cjk_font(order, tmp_path):
    path = tmp_path / "slip.pdf"
    path.write_bytes(packing_slip_pdf(order))
    fonts = subprocess.run(
        [tool("pdffonts"), str(path)], capture_output=True, check=True
    ).stdout.decode()
    # Font names read like "TSPJMR+Noto-Sans-CJK-SC"; the subset is embedded, never tofu.
    assert "NotoSansCJK" in fonts.replace("-", "")


@pytest.mark.django_db
def test_labels_refuse_an_order_without_packages(order, users):
    with pytest.raises(ValueError, match="no packages"):
        labels_pdf(order)
    # Packages of an earlier picking round do not count.
    add_packages(order, users[Role.WAREHOUSE], 1, round=1)
    Fulfilment.objects.filter(order=order).update(round=2)
    order.refresh_from_db()
    with pytest.raises(ValueError, match="no packages"):
        labels_pdf(order)
