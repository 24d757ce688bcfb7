"""Checks for the photos customers send with a problem report.

A photo is accepted for what its content is, never for its name or the type the
browser claims: Pillow must find a JPEG, PNG or WebP image in it, of a sane size,
and decode it completely.
"""

import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

from .models import PHOTO_TYPES

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# A 48-megapixel phone photo passes; a small file that would unpack into gigabytes does not.
MAX_PHOTO_PIXELS = 50_000_000


@dataclass(frozen=True)
class CheckedPhoto:
    upload: object
    content_type: str
    size: int
    width: int
    height: int


def _name(upload) -> str:
    name = str(getattr(upload, "name", "") or _("photo"))
    return name if len(name) <= 60 else name[:57] + "…"


def check_photo(upload) -> CheckedPhoto:
    """Return the checked photo, or raise ValidationError with a message for the customer."""
    name = _name(upload)
    size = upload.size or 0
    if size > MAX_PHOTO_BYTES:
        raise ValidationError(_("%(name)s is larger than 5 MB.") % {"name": name})
    if size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    not_a_photo = ValidationError(
        _("%(name)s is not a photo in JPEG, PNG or WebP format.") % {"name": name}
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if image_format not in PHOTO_TYPES:
                    raise not_a_photo
                if width * height > MAX_PHOTO_PIXELS:
                    raise ValidationError(
                        _("%(name)s has too many pixels (at most 50 megapixels).") % {"name": name}
                    )
                image.verify()
            # verify() does not decode everything; decoding (a JPEG at 1/8 scale, which
            # still reads all its data) finds corrupt files, and truncated ones unless
            # Pillow was told to accept them (WeasyPrint does, process-wide: such a
            # photo is then kept, shown grey where it was cut).
            upload.seek(0)
            with Image.open(upload) as image:
                if image.format == "JPEG":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationError(
            _("%(name)s has too many pixels (at most 50 megapixels).") % {"name": name}
        ) from None
    except Exception:  # not an image (UnidentifiedImageError), or a corrupt one: Pillow's
        # decoders raise OSError, SyntaxError, ValueError, struct.error... on crafted files
        raise not_a_photo from None
    finally:
        upload.seek(0)
    return CheckedPhoto(
        upload=upload,
        content_type=PHOTO_TYPES[image_format][0],
        size=size,
        width=width,
        height=height,
    )


def save_photos(model, photos: list[CheckedPhoto], *, stored: list, now, **parent) -> None:
    """Save checked photos as ``model`` rows of ``parent`` (e.g. case=...), under random
    names. Each file's name is added to ``stored`` as soon as it is written, so that
    the caller can remove them if its transaction is rolled back."""
    for photo in photos:
        item = model(
            content_type=photo.content_type,
            size=photo.size,
            width=photo.width,
            height=photo.height,
            uploaded_at=now,
            **parent,
        )
        item.image.save("photo", photo.upload, save=False)
        stored.append(item.image.name)
        item.save()
