"""The exchange's command-line parsers (imported by services/cli.py; nothing heavy here)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parsers(sub: Any) -> None:
    xborder: argparse.ArgumentParser = sub.add_parser(
        "xborder", help="the exchange with the other side of the gate (docs/exchange.md)"
    )
    xborder_sub = xborder.add_subparsers(dest="xborder_command", required=True)
    keygen = xborder_sub.add_parser("keygen", help="a new Ed25519 signing key for one side")
    keygen.add_argument("--side", choices=["VN", "CN"], required=True)
    keygen.add_argument("--key-id", required=True, help="e.g. vn-2026-01")
