"""The exchange's command-line parsers (imported by services/cli/main.py; nothing heavy here)."""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
from typing import Any

from services.cli.args import number, trucks
from services.runtime.settings import Settings

_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _key_id(raw: str) -> str:
    """A key id as it travels in headers and the trusted-keys list: letters, digits, `.`,
    `_`, `-`, 1-64 of them (found by a stranger's try: an empty id and one with spaces and
    slashes were accepted)."""
    if not _KEY_ID.fullmatch(raw):
        raise argparse.ArgumentTypeError(
            f"{raw!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return raw


def _speedup(raw: str) -> float:
    """Simulated seconds per second, above 0 and finite: the demo's gate clock runs at it
    (found by a stranger's try: 0 froze the clock and sent nothing, -5 ran it backwards
    and sent thousands of messages at once)."""
    value = number(raw)
    if not 0 < value < math.inf:  # NaN too
        raise argparse.ArgumentTypeError(f"--speedup {raw}: give a number above 0")
    return value


def add_parsers(sub: Any, *, up: argparse.ArgumentParser) -> None:
    up.add_argument(
        "--side",
        choices=["VN", "CN"],
        default=None,
        help="one side of the gate: VN runs Huu Nghi, CN runs Youyiguan (its own gate file, "
        "var/cn); both at once with their link: `borderflow xborder demo`",
    )
    xborder: argparse.ArgumentParser = sub.add_parser(
        "xborder", help="the exchange with the other side of the gate (docs/exchange.md)"
    )
    xborder_sub = xborder.add_subparsers(dest="xborder_command", required=True)
    keygen = xborder_sub.add_parser("keygen", help="a new Ed25519 signing key for one side")
    keygen.add_argument("--side", choices=["VN", "CN"], required=True)
    keygen.add_argument("--key-id", required=True, type=_key_id, help="e.g. vn-2026-01")
    xborder_sub.add_parser(
        "link", help="this side's link worker against a running system (BORDERFLOW_XBORDER_*)"
    )
    demo = xborder_sub.add_parser(
        "demo", help="both sides on this machine: two embedded brokers, two databases, links"
    )
    demo.add_argument("--trucks", type=trucks, default=3000, help="trucks a day, each way")
    demo.add_argument("--speedup", type=_speedup, default=600.0, help="simulated s per second")
    demo.add_argument("--seed", type=int, default=1)


def main_xborder(settings: Settings, args: argparse.Namespace) -> int:
    if args.xborder_command == "keygen":
        from lanes.crossings import Side  # noqa: PLC0415
        from services.xborder.worker import keygen_lines  # noqa: PLC0415

        print("\n".join(keygen_lines(Side(args.side), args.key_id)))
        return 0
    if args.xborder_command == "link":
        from services.xborder.config import LinkSettingsError, load_link_settings  # noqa: PLC0415
        from services.xborder.worker import run_link  # noqa: PLC0415

        try:
            xsettings = load_link_settings()
        except LinkSettingsError as exc:
            print(f"borderflow xborder link: invalid configuration: {exc}", file=sys.stderr)
            return 2
        return asyncio.run(run_link(settings, xsettings))
    from services.xborder.demo import main_demo  # noqa: PLC0415

    return asyncio.run(
        main_demo(settings, trucks=args.trucks, speedup=args.speedup, seed=args.seed)
    )
