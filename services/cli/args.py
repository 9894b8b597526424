"""Argument types the command lines share (argparse `type=`): a bad value is a usage error
(exit 2, the reason) before anything starts."""

from __future__ import annotations

import argparse


def trucks(raw: str) -> int:
    """A number of trucks: 1 or more."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} trucks: give 1 or more")
    return value


def number(raw: str) -> float:
    """A number (`inf` and `nan` parse: the caller's own check says what it takes)."""
    try:
        return float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
