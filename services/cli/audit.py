"""`borderflow controllers create | list | set-role | set-password | disable | enable` and
`borderflow audit verify | export`: control-room accounts and the audit log. Database only.

A terminal front end: it talks to a person on stdout and stderr; the database modules are
imported by the command that needs them, so `borderflow --help` stays light (as in cli.py)."""

# ruff: noqa: T201, PLC0415

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from services.runtime.settings import Settings
from streams import clock


def add_parsers(sub: Any) -> None:
    ctl = sub.add_parser("controllers", help="control-room accounts (viewer, controller)")
    ctl_sub = ctl.add_subparsers(dest="controllers_command", required=True)
    create = ctl_sub.add_parser("create", help="a new account; asks for its password")
    create.add_argument("username")
    create.add_argument("--role", choices=["viewer", "controller"], default="viewer")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
    )
    ctl_sub.add_parser("list", help="accounts and roles")
    role = ctl_sub.add_parser("set-role", help="change an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=["viewer", "controller"])
    pw = ctl_sub.add_parser("set-password", help="new password; logs the account out")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    for name in ("disable", "enable"):
        ctl_sub.add_parser(name, help=f"{name} an account").add_argument("username")

    audit = sub.add_parser("audit", help="the control room's tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain; names the first bad entry")
    export = audit_sub.add_parser("export", help="every entry as JSON lines")
    export.add_argument("--out", default="-", help="file to write (default: stdout)")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("again: ")
    except EOFError:  # Ctrl-D, or no terminal (found by a stranger's try: a traceback)
        raise ValueError(
            "password: none given (the input ended); type it at the prompt, "
            "or pipe it in with --password-stdin"
        ) from None
    if again != first:
        raise ValueError("password: the two entries differ")
    return first


async def main_controllers(settings: Settings, args: argparse.Namespace) -> int:

    from services.db import controllers as db

    command = args.controllers_command
    try:
        password = _password(args.password_stdin) if command in ("create", "set-password") else ""
        async with _sessions(settings) as sessions, sessions() as session, session.begin():
            if command == "create":
                made = await db.create_controller(
                    session=session,
                    username=args.username,
                    role=args.role,
                    password=password,
                    now=clock.wall_clock(),
                )
                print(f"controller {made.username} created ({made.role})")
            elif command == "list":
                for c in await db.list_controllers(session=session):
                    state = " disabled" if c.disabled else ""
                    print(f"{c.username}\t{c.role}{state}\tsince {c.created_at:%Y-%m-%d}")
            elif command == "set-role":
                changed = await db.set_role(session=session, username=args.username, role=args.role)
                print(f"controller {changed.username} is now a {changed.role}")
            elif command == "set-password":
                await db.set_password(session=session, username=args.username, password=password)
                print(f"password of {args.username} changed; its sessions are closed")
            else:
                await db.set_disabled(
                    session=session, username=args.username, disabled=command == "disable"
                )
                print(f"controller {args.username} {command}d")
    except ValueError as exc:
        print(f"borderflow controllers: {exc}", file=sys.stderr)
        return 1
    return 0


async def main_audit(settings: Settings, args: argparse.Namespace) -> int:
    from services.db import audit

    async with _sessions(settings) as sessions, sessions() as session:
        if args.audit_command == "verify":
            verdict = await audit.verify_chain(session=session)
            if verdict.ok:
                print(
                    f"audit log OK: {verdict.entries} entries, head entry {verdict.head_seq} "
                    f"hash {verdict.head_hash}"
                )
                return 0
            print(f"audit log BROKEN at entry {verdict.first_bad}: {verdict.problem}")
            return 1
        lines = [audit.export_line(row) async for row in audit.entries(session=session)]
    _write(args.out, lines)
    print(f"{len(lines)} entries exported", file=sys.stderr)
    return 0


def _write(out: str, lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    if out == "-":
        sys.stdout.write(text)
    else:  # its folder is made, as `archive export` does (a traceback before 2026-12-05)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")


class _sessions:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __aenter__(self) -> Any:
        from services.bootstrap import open_database
        from services.gates.loader import configured_gates

        gates = configured_gates(self.settings.gates_dir)
        self.opened = open_database(self.settings.database, gates=gates)
        return await self.opened.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self.opened.__aexit__(None, None, None)
