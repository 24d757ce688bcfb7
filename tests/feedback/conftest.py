"""Fixtures for the receipt step: delivered orders, photos made by Pillow, and a
private media folder per test (problem photos are written to storage)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from orders.models import Status
from orders.roles import Role


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def delivered(order_in, users):
    """A delivered order of the Sales user, for a customer with an email address."""
    return order_in(Status.DELIVERED, salesperson=users[Role.SALES])


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def photo(name="photo.jpg", fmt="JPEG", content=None, content_type="image/jpeg", **kwargs):
    data = content if content is not None else image_bytes(fmt, **kwargs)
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(media_root) -> list:
    root = media_root / "problem-photos"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
