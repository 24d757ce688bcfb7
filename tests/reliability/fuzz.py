"""A small harness for fuzzing the site's forms with hypothesis.

- ``hostile_text()``: text a browser would never send but anyone can: NUL, lone
  surrogates, invalid UTF-8, very long strings, numbers out of range, malformed dates,
  template and SQL syntax, full-width and other-script digits.
- ``form(...)``: a form post that starts from valid values (so the request reaches the
  service) and replaces, repeats or leaves out any field.
- ``Fuzzer``: sends a post or a query string exactly as given (raw bytes, url-encoded or
  multipart), inside a savepoint that is rolled back after each example, and asserts
  that the answer is not a 5xx and that a refused request (4xx) changed no row of the
  project's tables, sent no email and stored no file.
"""

import io
import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote_plus

from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Leave the field out of the post.
ABSENT = object()

# Every example is a full request: enough of them to find the odd input, few enough
# that the whole file runs in about a minute on two cores. O2D_FUZZ_EXAMPLES=1000 makes
# a long run (the run that found issue 9's 500s sent 9,175 requests).
fuzz_settings = settings(
    max_examples=int(os.environ.get("O2D_FUZZ_EXAMPLES", "40")),
    deadline=None,
    database=None,  # no .hypothesis folder in the working tree; failures print their input
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Bytes no valid UTF-8 encoder produces: a stray continuation byte, an overlong NUL,
# an encoded surrogate, a truncated sequence; and broken percent-escapes.
BROKEN_ENCODING = [
    "\ud800",
    "a\udfffb",
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"a\xe4\xb8",
    b"%zz",
]
LONG = ["x" * 256, "x" * 100_001, "中" * 5_000, "😀" * 300, "a" + "\u0301" * 500]
NUMBERS = [
    "0",
    "-1",
    "-0",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "2147483648",
    "99999999999999999999999",
    "-9223372036854775809",
]
BAD_DATES = [
    "2026-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-13-45T25:61",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59",
    "2026-01-01T00:00:00+99:00",
]
ODD = [
    "１２３",
    "١٢٣",
    "²",
    "𝟙𝟚",
    "Ⅻ",
    "<script>alert(1)</script>",
    "{{ request }}{% debug %}",
    "' OR 1=1 --",
    "%(x)s {0}",
    "\\",
    "%00",
]
BLANK = ["", " ", "\r\n\t", "\ufeff", "\u202e", "\u200b"]


def hostile_text(valid=None):
    """Text (or raw bytes) as an attacker or a broken client would post it, in eight
    kinds drawn equally often: with a NUL character, broken encoding, very long,
    numbers out of range, malformed dates, odd digits and syntax, random characters
    (lone surrogates included), blank. Given the field's ``valid`` value, the NUL and
    long kinds build on it, so the value still looks right to everything else."""
    base = valid if isinstance(valid, str) and valid else "x"
    any_character = st.characters(exclude_categories=())
    return st.one_of(
        st.sampled_from([base + "\x00", "\x00", base[:1] + "\x00" + base[1:], "a\x00b"]),
        st.sampled_from(BROKEN_ENCODING).map(
            lambda bad: bad if isinstance(bad, bytes) else base + bad
        ),
        st.sampled_from([base * (256 // len(base) + 1), *LONG]),
        st.one_of(st.sampled_from(NUMBERS), st.integers().map(str), st.floats().map(str)),
        st.one_of(
            st.sampled_from(BAD_DATES),
            st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
            st.datetimes(min_value=datetime(1, 1, 1)).map(datetime.isoformat),
        ),
        st.sampled_from(ODD),
        st.text(any_character, max_size=40),
        st.sampled_from(BLANK),
    )


@dataclass
class Upload:
    name: str
    content: bytes
    content_type: str = "application/octet-stream"


def hostile_upload():
    """A file as a hostile client might send it: any name, any bytes, any type."""
    return st.builds(
        Upload,
        name=st.one_of(
            st.sampled_from(
                ["a.jpg", "a.png", "x.eml", "x.pdf", "", "../../etc/passwd", "\x00.jpg"]
            ),
            st.text(max_size=30),
        ),
        content=st.one_of(
            st.binary(max_size=512),
            st.sampled_from(
                [
                    b"%PDF-1.4\n%%EOF",
                    b"From: a@example.cn\nSubject: x\n\nbody",
                    b"\xff\xd8\xff\xe0" + b"\x00" * 64,
                    b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
                ]
            ),
        ),
        content_type=st.sampled_from(
            ["image/jpeg", "image/png", "application/pdf", "message/rfc822", "text/plain", ""]
        ),
    )


def _image(fmt) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def photo_upload():
    """A real small photo, so that a report can get through with its files."""
    return st.sampled_from([("p.jpg", "JPEG", "image/jpeg"), ("p.png", "PNG", "image/png")]).map(
        lambda spec: Upload(spec[0], _image(spec[1]), spec[2])
    )


@dataclass
class Field:
    """A form field for fuzzing: the value that passes, and other values worth trying."""

    valid: object
    others: tuple = ()

    def hostile(self):
        """Hostile text, or one of the other values worth trying."""
        if isinstance(self.valid, st.SearchStrategy):
            return self.valid
        if self.others:
            return st.one_of(hostile_text(self.valid), st.sampled_from(self.others))
        return hostile_text(self.valid)

    def any(self):
        """Valid, another given value, hostile, absent, or repeated."""
        if isinstance(self.valid, st.SearchStrategy):
            return self.valid
        single = st.one_of(
            st.just(self.valid),
            self.hostile(),
            self.hostile(),
            st.just(ABSENT),
            *[st.just(value) for value in self.others],
        )
        return st.one_of(single, single, single, st.lists(single, min_size=2, max_size=3))

    def usual(self):
        """The valid value or another given one."""
        if isinstance(self.valid, st.SearchStrategy):
            return self.valid
        return st.sampled_from([self.valid, *self.others])


def field(valid, *others) -> Field:
    """A field whose ``valid`` value passes; ``others`` are also tried. ``valid`` may be
    a strategy (files), used as it is."""
    return Field(valid, others)


def _as_field(value) -> Field:
    if isinstance(value, Field):
        return value
    return Field(value if isinstance(value, st.SearchStrategy) else st.just(value))


def form(**fields):
    """A post of ``fields`` (``field()``s or plain values, which are always sent as
    they are). Half of the examples make one field hostile and keep the others usual,
    so the request gets past the other fields to the service; the rest mix every
    field at random."""
    fields = {name: _as_field(f) for name, f in fields.items()}

    def one_hostile(name):
        return st.fixed_dictionaries(
            {other: (f.hostile() if other == name else f.usual()) for other, f in fields.items()}
        )

    mixed = st.fixed_dictionaries({name: f.any() for name, f in fields.items()})
    return st.one_of(st.sampled_from(list(fields)).flatmap(one_hostile), mixed)


def token():
    return uuid.uuid4().hex


# ---------------------------------------------------------------------------
# Encoding


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def _items(data):
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is not ABSENT:
                yield name, item


def urlencode(data) -> str:
    """``data`` as a query string, byte for byte (lone surrogates and invalid UTF-8 too)."""
    return "&".join(
        f"{quote_plus(_bytes(name))}={quote_plus(_bytes(value))}" for name, value in _items(data)
    )


BOUNDARY = "fuzz-boundary-7MA4YWxkTrZu0gW"


def multipart(data) -> bytes:
    parts = []
    for name, value in _items(data):
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'.encode()
        if isinstance(value, Upload):
            filename = _bytes(value.name).replace(b'"', b"").replace(b"\r", b"").replace(b"\n", b"")
            head += b'; filename="' + filename + b'"\r\n'
            head += f"Content-Type: {value.content_type}\r\n\r\n".encode()
            parts.append(head + value.content + b"\r\n")
        else:
            parts.append(head + b"\r\n\r\n" + _bytes(value) + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


# ---------------------------------------------------------------------------
# What a refused request must leave as it was

PROJECT_APPS = ("orders", "warehouse", "logistics", "finance", "feedback", "django_fsm_log")


def _tables() -> list[str]:
    tables = set()
    for label in PROJECT_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                tables.add(model._meta.db_table)
    return sorted(tables)


def snapshot() -> dict[str, str]:
    """A digest of every row of every project table (inserts, updates and deletes all
    change it), in one query."""
    tables = _tables()
    quote = connection.ops.quote_name
    digests = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f"FROM {quote(table)} t)"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {digests}")  # table names come from the models
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _files(root) -> list[str]:
    root = Path(root)
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


class Fuzzer:
    """Sends hostile requests with a Django test client and checks the answers."""

    def __init__(self, client, media_root):
        self.client = client
        self.media_root = media_root

    def _state(self):
        return snapshot(), len(mail.outbox), _files(self.media_root)

    def request(self, method, url, data=None, *, files=False, query=None):
        """Send ``data`` (form fields) by ``method``; ``files``: as multipart/form-data.
        The database is rolled back afterwards, so every example starts from the same
        state. Returns the response."""
        cache.clear()  # rate limits must not hide what the form does
        extra = {"HTTP_ACCEPT_LANGUAGE": "en"}
        if query is not None:
            extra["QUERY_STRING"] = urlencode(query)
        if method == "GET":
            body, content_type = b"", "text/plain"
        elif files:
            body, content_type = multipart(data or {}), f"multipart/form-data; boundary={BOUNDARY}"
        else:
            body, content_type = (
                urlencode(data or {}).encode("ascii"),
                ("application/x-www-form-urlencoded"),
            )
        with transaction.atomic():
            before = self._state()
            response = self.client.generic(method, url, body, content_type=content_type, **extra)
            after = self._state()
            transaction.set_rollback(True)
        assert response.status_code < 500, (response.status_code, data or query)
        if response.status_code >= 400:
            changed = [name for name in before[0] if before[0][name] != after[0][name]]
            assert not changed, f"refused with {response.status_code} but wrote {changed}"
            assert after[1] == before[1], "refused but sent an email"
            assert after[2] == before[2], "refused but stored a file"
        return response

    def post(self, url, data, *, files=False):
        return self.request("POST", url, data, files=files)

    def get(self, url, query):
        return self.request("GET", url, query=query)


# ---------------------------------------------------------------------------
# Values the form tests (test_fuzz_*.py) share

FUTURE = "2099-06-30"
PHONE = "+8613800138000"
anything = st.dictionaries(hostile_text(), hostile_text(), max_size=3)
