"""The command-line side of issue 7: `archive export`, `replay`, `redrive` (a terminal front
end like services/cli/main.py: it prints to the person at the terminal)."""

# ruff: noqa: T201

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lanes.errors import DomainError
from services.archive.redrive import dead_letters_matching, redrive
from services.archive.store import records_in_range
from services.gates.loader import GateConfigError, configured_gates, require_known_gate
from services.replay.inputs import BrokerUnreachable, read_topics
from services.replay.preflight import archive_problem, warm_up_note
from services.runtime.settings import Settings
from streams.clients import consumer_kwargs, make_producer
from streams.topics import all_topics


def parse_time(raw: str) -> datetime:
    """ISO 8601 with its UTC offset. A time without one is refused, not taken as UTC (found
    by a stranger's try: an analyst typing the gate's local time, UTC+7, got a range seven
    hours off, and a bare date was taken as midnight UTC), as the HTTP API refuses it."""
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        why = str(exc)
        if why.startswith("Invalid isoformat string"):
            raise argparse.ArgumentTypeError(f"{raw!r} is not an ISO 8601 time") from exc
        # written right, but no such time: say which part (found by a stranger's try:
        # 2027-02-29, a leap day in a year without one, was "not an ISO 8601 time")
        raise argparse.ArgumentTypeError(f"{raw!r} is no such time: {why}") from exc
    if at.tzinfo is None:  # the example on the day typed (a fixed day's was copied wrong)
        typed = f"{at:%Y-%m-%dT%H:%M:%S}" if at.year >= 1000 else "2026-11-24T00:00:00"
        raise argparse.ArgumentTypeError(
            f"{raw!r} has no UTC offset: write it with one, e.g. {typed}+07:00 "
            f"(the Huu Nghi gate's local time) or {typed}Z"
        )
    try:  # the archive keeps UTC: 0001-01-01T00:00:00+07:00 failed in the database driver
        at.astimezone(UTC)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{raw!r} is no time in UTC (years 1 to 9999)") from None
    return at


# found by an analyst's try: `--help` said `--from START` and nothing of how to write it
TIME_HELP = (
    "ISO 8601 with its UTC offset, e.g. 2026-11-24T00:00:00+07:00 (the Huu Nghi gate's "
    "local time) or ...Z (UTC); event time"
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    archive = sub.add_parser("archive", help="the event archive (issue 7)")
    archive_sub = archive.add_subparsers(dest="archive_command", required=True)
    export = archive_sub.add_parser("export", help="a time range (event time) to JSONL or Parquet")
    export.add_argument("--from", dest="start", type=parse_time, required=True, help=TIME_HELP)
    export.add_argument("--to", dest="end", type=parse_time, required=True, help="likewise")
    export.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    export.add_argument("--topic", action="append", default=None, help="repeatable; default all")
    export.add_argument("--out", required=True, help="a file (jsonl) or a folder (parquet)")

    rp = sub.add_parser("replay", help="re-run a recorded range in a sandbox; diff and report")
    rp.add_argument("--from", dest="start", type=parse_time, required=True, help=TIME_HELP)
    rp.add_argument("--to", dest="end", type=parse_time, required=True, help="likewise")
    rp.add_argument("--gate", default=None, help="only this gate's events")
    rp.add_argument(
        "--policy", default=None, help="a what-if TOML file (policy, gate changes, lane closures)"
    )
    rp.add_argument(
        "--source",
        choices=["archive", "kafka"],
        default="archive",
        help="archive (default): the event archive in the database; kafka: the topics of "
        "the broker at BORDERFLOW_KAFKA_BOOTSTRAP (a running one)",
    )
    rp.add_argument(
        "--warm-up",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="replay the inputs of this many hours before --from first (boards and visits "
        "as the range found them); their decisions are not part of the result",
    )
    rp.add_argument("--out", required=True, help="folder for decisions, diff, KPIs, report")

    rd = sub.add_parser("redrive", help="publish an archived range or a DLQ back onto a topic")
    rd.add_argument("--from", dest="start", type=parse_time, default=None, help=TIME_HELP)
    rd.add_argument("--to", dest="end", type=parse_time, default=None, help="likewise")
    rd.add_argument("--topic", default=None, help="with --from/--to: the archived topic")
    rd.add_argument("--dlq", default=None, help="a dead-letter topic, read from Kafka")
    rd.add_argument("--to-topic", default=None, help="default: each record's source topic")
    rd.add_argument("--rate", type=float, default=100.0, help="records a second (0: unpaced)")
    rd.add_argument(
        "--reason",
        default=None,
        metavar="TEXT",
        help="with --dlq: only the dead letters whose reason (dlq.error) holds TEXT, any case",
    )
    rd.add_argument(
        "--group",
        default=None,
        help="with --dlq: only those the consumer group GROUP dead-lettered (dlq.consumer.group)",
    )
    rd.add_argument("--dry-run", action="store_true")


# export (pyarrow) and replay (matplotlib, for its report) are imported by their commands:
# every `borderflow` process builds this parser, and they would add ~0.8 s to each start


async def main_archive(settings: Settings, args: argparse.Namespace) -> int:
    from services.archive.export import export_range  # noqa: PLC0415 (see above)
    from services.bootstrap import open_database  # noqa: PLC0415 (see above)

    if args.end <= args.start:
        print("borderflow archive export: --to must be after --from", file=sys.stderr)
        return 2
    unknown = sorted(set(args.topic or ()) - {spec.name for spec in all_topics()})
    if unknown:
        known = ", ".join(sorted(spec.name for spec in all_topics()))
        print(
            f"borderflow archive export: --topic {', '.join(unknown)}: no such topic "
            f"(the archived topics: {known})",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out)
    if args.format == "jsonl" and out.is_dir():  # noqa: ASYNC240 (before any work)
        print(
            f"borderflow archive export: --out {out} is a folder; JSONL goes to a file "
            "(e.g. --out day.jsonl), Parquet to a folder",
            file=sys.stderr,
        )
        return 2
    problem = await archive_problem(  # an empty range: a day mistyped, an empty file
        settings.database, start=args.start, end=args.end, need_events=True
    )
    if problem:
        print(f"borderflow archive export: {problem}; nothing written", file=sys.stderr)
        return 2
    async with open_database(settings.database) as sessions:
        count, files = await export_range(
            sessions,
            start=args.start,
            end=args.end,
            out=out,
            fmt=args.format,
            topics=args.topic,
        )
    print(f"exported {count} records to {', '.join(str(f) for f in files) or args.out}")
    return 0


async def main_replay(settings: Settings, args: argparse.Namespace) -> int:
    from services.replay.run import ProgressLine, replay  # noqa: PLC0415 (see above)

    if args.end <= args.start:
        print("borderflow replay: --to must be after --from", file=sys.stderr)
        return 2
    if not (args.warm_up >= 0 and math.isfinite(args.warm_up)):  # nan, inf: a traceback
        print("borderflow replay: --warm-up must be 0 or more hours", file=sys.stderr)
        return 2
    try:
        args.start.astimezone(UTC) - timedelta(hours=args.warm_up)
    except OverflowError:
        print(
            f"borderflow replay: --warm-up {args.warm_up:g} hours before "
            f"{args.start.isoformat()} is before the year 1",
            file=sys.stderr,
        )
        return 2
    if Path(args.out).exists() and not Path(args.out).is_dir():  # noqa: ASYNC240
        print(f"borderflow replay: --out {args.out} is a file; give a folder", file=sys.stderr)
        return 2
    if args.source == "kafka" and settings.kafka.bootstrap is None:  # was status 1
        print(
            "borderflow replay: --source kafka needs BORDERFLOW_KAFKA_BOOTSTRAP (a running "
            "broker's); without --source the replay reads the archive",
            file=sys.stderr,
        )
        return 2
    try:
        if args.gate is not None:  # named before a missing archive (which needs no gate)
            require_known_gate(args.gate, configured_gates(settings.gates_dir))
        if args.source == "archive":
            problem = await archive_problem(
                settings.database, start=args.start, end=args.end, need_events=True
            )
            if problem:
                print(f"borderflow replay: {problem}; nothing written", file=sys.stderr)
                return 2
        outcome = await replay(
            settings,
            start=args.start,
            end=args.end,
            out=Path(args.out),
            gate_id=args.gate,
            policy_file=Path(args.policy) if args.policy else None,
            source=args.source,
            progress=ProgressLine(),
            warm_up=timedelta(hours=args.warm_up),
        )
    except (GateConfigError, DomainError, BrokerUnreachable) as exc:
        print(f"borderflow replay: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "events": outcome.events,
                "decisions": outcome.decisions,
                "exact_differences": outcome.exact_differences,
                "trucks_changed": outcome.trucks_changed,
                "without_manifest_known_now": outcome.without_manifest_known_now,
                "controllers_not_replayed": outcome.controllers,
                "not_handled_live": outcome.not_handled_live,
                "wall_s": round(outcome.wall_s, 2),
                "files": [str(f) for f in outcome.files],
            }
        )
    )
    if outcome.not_handled_live:
        print(
            f"borderflow replay: {outcome.not_handled_live:,} plate reads and lane events "
            "archived in this range were never handled by the live workers (they stopped "
            "before them, or dead-lettered them): the live run decided nothing on them, so "
            "the replay leaves them out too (docs/replay.md, Limits)",
            file=sys.stderr,
        )
    for line in outcome.without_a_lane:  # what the what-if's lane closures leave no lane
        print(
            f"borderflow replay: {line}: such trucks are refused, as live (docs/replay.md)",
            file=sys.stderr,
        )
    if outcome.exact_differences and args.source == "archive":
        note = await warm_up_note(
            settings.database, start=args.start, warm_up=timedelta(hours=args.warm_up)
        )
        if note:
            print(f"borderflow replay: {note}", file=sys.stderr)
    if outcome.exact_differences and any(outcome.controllers.values()):
        print(
            "borderflow replay: the lane controllers acted in this range "
            f"({outcome.controllers['actions']} control-room actions, "
            f"{outcome.controllers['alerts_acted_on']} alerts acted on); the replay does "
            "not do their actions again, so decisions after them can differ "
            "(docs/replay.md, Limits)",
            file=sys.stderr,
        )
    return 1 if outcome.exact_differences else 0


async def main_redrive(settings: Settings, args: argparse.Namespace) -> int:
    from services.bootstrap import open_database  # noqa: PLC0415 (see above)

    if (args.dlq is None) == (args.start is None or args.end is None):
        print("borderflow redrive: give either --dlq TOPIC or --from and --to", file=sys.stderr)
        return 2
    reason, group = getattr(args, "reason", None), getattr(args, "group", None)
    if args.dlq is None and (reason is not None or group is not None):
        print(
            "borderflow redrive: --reason and --group take --dlq (they read a dead letter's "
            "headers; an archived range has none)",
            file=sys.stderr,
        )
        return 2
    if not (args.rate >= 0 and math.isfinite(args.rate)):  # nan, -1: sent unpaced
        print(
            "borderflow redrive: --rate must be 0 (unpaced) or more records a second",
            file=sys.stderr,
        )
        return 2
    bootstrap = settings.kafka.bootstrap
    if bootstrap is None and not (args.dry_run and args.dlq is None):
        print("borderflow redrive: BORDERFLOW_KAFKA_BOOTSTRAP is not set", file=sys.stderr)
        return 2
    if args.dlq is not None:
        assert bootstrap is not None
        try:
            records = await read_topics(consumer_kwargs(settings.kafka, bootstrap), [args.dlq])
        except BrokerUnreachable as exc:
            print(f"borderflow redrive: {exc}", file=sys.stderr)
            return 2
        if reason is not None or group is not None:
            kept = dead_letters_matching(records, reason=reason, group=group)
            print(
                f"redrive: {len(kept)} of {len(records)} dead letters match"
                + (f" --reason {reason!r}" if reason is not None else "")
                + (f" --group {group!r}" if group is not None else ""),
                file=sys.stderr,
            )
            records = kept
    else:
        if args.end <= args.start:  # answered "would send 0 records", status 0
            print("borderflow redrive: --to must be after --from", file=sys.stderr)
            return 2
        problem = await archive_problem(
            settings.database, start=args.start, end=args.end, need_events=True
        )
        if problem:
            print(f"borderflow redrive: {problem}", file=sys.stderr)
            return 2
        async with open_database(settings.database) as sessions, sessions() as session:
            records = await records_in_range(
                session=session,
                start=args.start,
                end=args.end,
                topics=[args.topic] if args.topic else None,
            )
    producer = (
        None if args.dry_run or bootstrap is None else make_producer(settings.kafka, bootstrap)
    )
    if producer is not None:
        await producer.start()
    try:
        result = await redrive(
            records,
            producer=producer,
            to_topic=args.to_topic,
            rate=args.rate or None,
            dry_run=args.dry_run,
        )
    finally:
        if producer is not None:
            await producer.stop()
    verb = "would send" if result.dry_run else "sent"
    print(f"redrive: {verb} {result.sent} records: {json.dumps(result.by_topic, sort_keys=True)}")
    if result.skipped:
        print(
            f"redrive: skipped {result.skipped} with neither key nor value (nothing to send)",
            file=sys.stderr,
        )
    return 0
