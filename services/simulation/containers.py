"""ISO 6346 container numbers: owner code (3 letters), category `U`/`J`/`Z`, 6 digits and a
check digit over the first ten characters."""

from __future__ import annotations

import random
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

# Owner codes to draw from (three letters, as registered with the BIC).
OWNER_CODES = ("CSQ", "CCL", "OOL", "MSK", "MSC", "CMA", "EMC", "TGH", "TCL", "SEG", "EGH")


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


def is_valid_container(number: str) -> bool:
    """True for an 11-character ISO 6346 number whose check digit is right."""
    text = number.strip().upper()
    if (
        len(text) != 11
        or not text[:3].isascii()
        or not text[:3].isalpha()
        or text[3] not in "UJZ"
        or not text[4:].isdigit()
    ):
        return False
    return check_digit(text[:10]) == int(text[10])


def random_container(rng: random.Random) -> str:
    """A valid freight-container number (category `U`)."""
    first_ten = f"{rng.choice(OWNER_CODES)}U{rng.randrange(1_000_000):06d}"
    return f"{first_ten}{check_digit(first_ten)}"
