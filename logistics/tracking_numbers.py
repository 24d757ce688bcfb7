"""Tracking numbers in a carrier's format: prefix, digits, a check digit, suffix."""

import re
import secrets

# UPU S10 weights for the 8 serial digits; longer serials repeat them.
S10_WEIGHTS = [8, 6, 4, 2, 3, 5, 9, 7]


def luhn_digit(digits: str) -> str:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 0:  # these are doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def s10_digit(digits: str) -> str:
    total = sum(int(d) * S10_WEIGHTS[i % len(S10_WEIGHTS)] for i, d in enumerate(digits))
    check = 11 - total % 11
    return {10: "0", 11: "5"}.get(check, str(check))


def check_digit(digits: str, scheme: str) -> str:
    if scheme == "luhn":
        return luhn_digit(digits)
    if scheme == "s10":
        return s10_digit(digits)
    return ""


def compose(carrier, serial: str) -> str:
    check = check_digit(serial, carrier.check_digit)
    return f"{carrier.tracking_prefix}{serial}{check}{carrier.tracking_suffix}"


def generate(carrier) -> str:
    """A new random tracking number in the carrier's format (uniqueness is the caller's)."""
    serial = "".join(secrets.choice("0123456789") for _ in range(carrier.tracking_digits))
    return compose(carrier, serial)


def normalize(number: str) -> str:
    return re.sub(r"[\s-]", "", number or "").upper()


def is_valid(carrier, number: str) -> bool:
    """True when ``number`` (normalized) has the carrier's prefix, length, suffix and
    a correct check digit."""
    number = normalize(number)
    prefix, suffix = carrier.tracking_prefix, carrier.tracking_suffix
    check_len = 0 if carrier.check_digit == "none" else 1
    pattern = rf"^{prefix}(\d{{{carrier.tracking_digits}}})(\d{{{check_len}}}){suffix}$"
    match = re.match(pattern, number)
    if not match:
        return False
    serial, check = match.groups()
    return check == check_digit(serial, carrier.check_digit)
