"""Random ISO 6346 container numbers for the simulator (the rules live in `lanes.containers`)."""

from __future__ import annotations

import random

from lanes.containers import check_digit, is_valid_container

__all__ = ["OWNER_CODES", "check_digit", "is_valid_container", "random_container"]

# Owner codes to draw from (three letters, as registered with the BIC).
OWNER_CODES = ("CSQ", "CCL", "OOL", "MSK", "MSC", "CMA", "EMC", "TGH", "TCL", "SEG", "EGH")


def random_container(rng: random.Random) -> str:
    """A valid freight-container number (category `U`)."""
    first_ten = f"{rng.choice(OWNER_CODES)}U{rng.randrange(1_000_000):06d}"
    return f"{first_ten}{check_digit(first_ten)}"
