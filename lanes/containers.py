"""ISO 6346 container numbers: owner code (3 letters), category `U`/`J`/`Z`, 6 digits and a
check digit over the first ten characters (`CSQU3054383`)."""

from __future__ import annotations

import string


def _letter_values() -> dict[str, int]:
    """A=10, B=12, ... K=21, L=23: counting up from 10 and skipping multiples of 11."""
    values: dict[str, int] = {}
    value = 10
    for letter in string.ascii_uppercase:
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values


_LETTER_VALUES = _letter_values()


def check_digit(first_ten: str) -> int:
    """The check digit of `first_ten` (owner code, category, 6 digits): each character's value
    times 2**position, summed, mod 11, mod 10 (a remainder of 10 gives 0)."""
    if len(first_ten) != 10:
        raise ValueError(f"expected 10 characters, got {len(first_ten)}: {first_ten!r}")
    total = 0
    for position, char in enumerate(first_ten.upper()):
        value = int(char) if char.isdigit() else _LETTER_VALUES.get(char)
        if value is None:
            raise ValueError(f"not a container-number character: {char!r} in {first_ten!r}")
        total += value * 2**position
    return total % 11 % 10


def normalise_container(number: str) -> str:
    """Upper case, spaces and dashes dropped: `csqu 305438-3` -> `CSQU3054383`."""
    return "".join(ch for ch in number.upper() if ch.isalnum())


def container_error(number: str) -> str | None:
    """Why `number` is not a valid ISO 6346 container number, or None when it is."""
    text = normalise_container(number)
    if len(text) != 11:
        return f"{number!r} has {len(text)} characters, an ISO 6346 number has 11"
    if not (text[:3].isascii() and text[:3].isalpha()):
        return f"{number!r}: the owner code (first 3 characters) must be letters"
    if text[3] not in "UJZ":
        return f"{number!r}: the category (4th character) must be U, J or Z, not {text[3]!r}"
    if not text[4:].isdigit():
        return f"{number!r}: the serial and check digit (last 7 characters) must be digits"
    expected = check_digit(text[:10])
    if expected != int(text[10]):
        return f"{number!r}: check digit is {text[10]}, ISO 6346 gives {expected}"
    return None


def is_valid_container(number: str) -> bool:
    """True for an 11-character ISO 6346 number whose check digit is right."""
    return container_error(number) is None
