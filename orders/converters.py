"""URL converters: order numbers and public secrets have a fixed shape, so anything
else (including control characters the database refuses) is a 404 before any query."""


class OrderNumberConverter:
    regex = r"\d{8}-\d{4,6}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class TokenConverter:
    regex = r"[A-Za-z0-9_\-]{16,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class SignedConverter:
    regex = r"[A-Za-z0-9_\-:.]{10,300}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
