"""The `borderflow` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date, datetime

from pydantic import ValidationError

from services.cli import audit as audit_cmd
from services.cli.args import number, trucks
from services.control.settings import ControlSettings
from services.gates.loader import GateConfigError
from services.runtime.logs import setup_logging
from services.runtime.setting_errors import SettingError, setting_errors
from services.runtime.settings import SETTINGS_CLASSES, load_settings
from services.simulation.anomalies import DEMO_ANOMALY_RATE
from services.xborder.cli import add_parsers as xborder_parsers

# The image forms `borderflow recognize` reads (plate_recognition.images.READ_FORMATS, not
# imported here: the recognition extra may not be installed for the other commands).
RECOGNIZE_FORMATS = "JPEG, PNG, WebP, BMP, TIFF, GIF or AVIF"

log = logging.getLogger(__name__)


def _add_up(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """`borderflow up`: the whole system on embedded defaults (the demo)."""
    up = sub.add_parser("up", help="run the whole system: broker, database, workers, API")
    up.add_argument("--no-simulator", action="store_true", help="wait for real camera events")
    up.add_argument("--trucks", type=trucks, default=3000, help="simulated trucks in the day")
    up.add_argument("--speedup", type=_speedup, default=60.0, help="simulated seconds per second")
    up.add_argument(
        "--seed", type=int, default=None, help="default: from the start time (new event ids)"
    )
    up.add_argument(
        "--start",
        type=_sim_start,
        default=None,
        metavar="YYYY-MM-DD[THH:MM]",
        help="when the simulated traffic starts, in the gate's local time unless an offset is "
        "given (a day alone: its 00:00); default: now. Another day than today, past or "
        "coming: its reads, manifests and decisions carry that day's times",
    )
    up.add_argument(
        "--anomalies",
        type=_share,
        default=DEMO_ANOMALY_RATE,
        metavar="SHARE",
        help="share of simulated trucks with an injected risk anomaly, spread over the kinds "
        f"(default {DEMO_ANOMALY_RATE:g}; 0: an ordinary day)",
    )
    return up


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="borderflow",
        description="Smart-border truck flow orchestration.",
        epilog="Settings are environment variables (BORDERFLOW_*, docs/configuration.md): the "
        "commands that keep data use the database of BORDERFLOW_DATABASE_URL (default: "
        "SQLite under ./var); those that join a running system (worker, api, "
        "simulate-traffic, redrive) need BORDERFLOW_KAFKA_BOOTSTRAP too. `up` runs "
        "everything with an embedded broker. Each command has its own --help.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    up = _add_up(sub)

    sub.add_parser(
        "migrate",
        help="bring the database schema to the latest version",
        description="Bring the database at BORDERFLOW_DATABASE_URL to the latest schema and "
        "write the gates of the gate files; at the latest already, it changes nothing. Every "
        "worker and the API do the same at start-up (one at a time on PostgreSQL).",
    )

    broker = sub.add_parser(
        "broker",
        help="run the embedded Tansu broker alone",
        description="The embedded Tansu broker alone, for development: it prints "
        "BORDERFLOW_KAFKA_BOOTSTRAP=host:port for the workers and the API, and keeps "
        "nothing across a restart (production: Apache Kafka).",
    )
    broker.add_argument("--port", type=int, default=None, help="default: a free port")

    worker = sub.add_parser(
        "worker",
        help="run one worker against a running system",
        description="One worker joining a running system: needs BORDERFLOW_KAFKA_BOOTSTRAP "
        "(the broker) and BORDERFLOW_DATABASE_URL (the system's database); "
        "BORDERFLOW_METRICS_PORT serves its /metrics. A broker or database not answering at "
        "start, or a setting refused: one line naming the setting, status 2. SIGTERM or "
        "SIGINT: it stops after its batch, status 0.",
    )
    worker.add_argument(
        "name",
        choices=[
            *("decider", "manifests", "lane-events", "matcher", "orchestrator", "recognizer"),
            *("archiver", "callforward", "call-notifier"),
        ],
        help="matcher = decider, orchestrator = lane-events (the container image's role names)",
    )

    sub.add_parser(
        "api",
        help="serve the HTTP API against a running system",
        description="The HTTP API and control room of a running system, on "
        "BORDERFLOW_API_HOST:BORDERFLOW_API_PORT (/health, /metrics, /docs): needs "
        "BORDERFLOW_KAFKA_BOOTSTRAP and BORDERFLOW_DATABASE_URL. A broker or database not "
        "answering at start, a port taken or a setting refused: one line naming the "
        "setting, status 2. SIGTERM or SIGINT: it stops, status 0.",
    )
    xborder_parsers(sub, up=up)  # the other side of the gate (issue 21), `up --side`

    sim = sub.add_parser(
        "simulate-traffic",
        help="seed manifests and publish plate reads",
        description="Seed the simulated day's manifests in the database of "
        "BORDERFLOW_DATABASE_URL and publish its plate reads to the running system's "
        "broker, BORDERFLOW_KAFKA_BOOTSTRAP.",
    )
    sim.add_argument("--trucks", type=int, default=300)
    sim.add_argument("--speedup", type=_speedup, default=60.0, help="0: as fast as possible")
    sim.add_argument(
        "--seed", type=int, default=None, help="default: from the start time (new event ids)"
    )
    sim.add_argument(
        "--start",
        type=_sim_start,
        default=None,
        metavar="YYYY-MM-DD[THH:MM]",
        help="as for up: when the traffic starts (default: now)",
    )
    sim.add_argument("--noise", type=float, default=0.1, help="share of reads with an OCR error")
    sim.add_argument("--no-manifests", action="store_true", help="do not seed manifests")

    firms = sub.add_parser(
        "firms",
        help="logistics firms and their API keys",
        description="Logistics firms and their API keys, in the database of "
        "BORDERFLOW_DATABASE_URL (the API's).",
    )
    firms_sub = firms.add_subparsers(dest="firms_command", required=True)
    create = firms_sub.add_parser("create", help="register a firm; prints its API key once")
    create.add_argument("name")
    create.add_argument("--firm-id", default=None, help="default: derived from the name")
    firms_sub.add_parser("list", help="firms and their keys (prefixes only)")
    rotate = firms_sub.add_parser("rotate-key", help="issue a new key; the old ones keep working")
    rotate.add_argument("firm_id")
    revoke = firms_sub.add_parser("revoke-key", help="revoke a key by its prefix")
    revoke.add_argument("prefix")

    manifests = sub.add_parser(
        "manifests",
        help="electronic manifests",
        description="Electronic manifests, filed in the database of BORDERFLOW_DATABASE_URL.",
    )
    manifests_sub = manifests.add_subparsers(dest="manifests_command", required=True)
    imp = manifests_sub.add_parser("import", help="bulk import a JSONL file (one per line)")
    imp.add_argument("file", help="JSONL, one manifest per line; '-' reads stdin")

    match = sub.add_parser(
        "match", help="match plate reads against manifests, offline (one JSON line per read)"
    )
    match.add_argument("--manifests", required=True, help="JSONL, the intake form")
    match.add_argument("--reads", required=True, help="JSONL, the plate-reads form")
    match.add_argument("--out", default=None, help="default: standard output")

    day = sub.add_parser(
        "simulate",
        help="simulate a border day under a policy: KPIs as JSON, optionally a chart",
        description="A discrete-event simulation of one day at a gate. Prints the KPIs as one "
        "JSON object (with --policy both, both policies, their ratios and the issue's targets); "
        "with --out DIR also writes DIR/kpis.json (hourly series included) and DIR/day.png.",
    )
    day.add_argument(
        "--gate",
        default="huu-nghi",
        help="gate id (default: huu-nghi); gates of your own: BORDERFLOW_GATES_DIR, a folder "
        "of gate files",
    )
    day.add_argument("--trucks", type=int, default=3000, help="trucks arriving in the day")
    day.add_argument(
        "--policy",
        choices=["fifo", "orchestrated", "both", "callforward"],
        default="both",
        help="both: fifo and orchestrated, their ratios and the targets; callforward: the "
        "orchestrated lanes with trucks waiting in the gate file's waiting areas and called "
        "forward (docs/call-forward.md), its KPIs adding road_queue and call_to_gate_min",
    )
    day.add_argument("--seed", type=int, default=1)
    day.add_argument(
        "--day",
        type=_sim_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="the local day simulated (default 2025-06-02): the arrivals are the same on "
        "every day for a seed, the times and the report follow it",
    )
    day.add_argument("--out", default=None, metavar="DIR", help="write kpis.json and day.png")
    audit_cmd.add_parsers(sub)  # controllers, audit (issue 6)
    recognize = sub.add_parser(
        "recognize",
        help="read the number plates of image files (checking a camera)",
        description="One JSON line per image, each distinct plate in it best first (those the"
        " recognizer worker publishes: past the first, only reads of a plate's format);"
        " an image with no plate"
        " that can be read (none found, the image or plate too small, or a read near"
        ' confidence 0) prints "plates": []. An image that cannot be read is one line on'
        " stderr, the others still read (exit status 1).",
    )
    recognize.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help=f"image files in {RECOGNIZE_FORMATS}: camera frames, or photographs of a plate"
        " cut to it (tightly or with margins); a TIFF's first page, an animation's first frame",
    )
    recognize.add_argument(
        "--vote", action="store_true", help="the images are one vehicle: print one voted read"
    )
    from services.replay.commands import add_parsers as add_replay_parsers

    add_replay_parsers(sub)  # archive export, replay, redrive (issue 7)
    return p


def _sim_day(text: str) -> date:
    """A local day `YYYY-MM-DD` inside the range every time in borderflow takes (2000-2199,
    in UTC: the first and the last day are left out, a gate's offset would cross them)."""
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day YYYY-MM-DD: {exc}") from None
    if not date(2000, 1, 2) <= day <= date(2199, 12, 30):
        raise argparse.ArgumentTypeError(f"{text!r}: must be between 2000-01-02 and 2199-12-30")
    return day


def _sim_start(text: str) -> datetime:
    """`--start`: a day (`2025-09-02`, its 00:00) or a time (`2025-09-02T06:30`, seconds and
    an offset allowed), in the range every time in borderflow takes; naive means the gate's
    local time (the simulator sets its offset, `supervisor.traffic_start`)."""
    raw = text.strip()
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--start {text!r}: give a day YYYY-MM-DD or a time YYYY-MM-DDTHH:MM ({exc})"
        ) from None
    _sim_day(at.date().isoformat())  # 2000-01-02 .. 2199-12-30, as --day
    return at


def _speedup(raw: str) -> float:
    """Simulated seconds per second: 0 (or inf) publishes unpaced, as fast as it can; a
    negative one or NaN was taken and failed once everything had started (found by a
    stranger's try: the simulator's traceback after the broker, database and API)."""
    value = number(raw)
    if not value >= 0:  # NaN too
        raise argparse.ArgumentTypeError(f"--speedup {raw}: give 0 (no pacing) or more")
    return value


def _share(raw: str) -> float:
    """A share of the simulated trucks, 0 to 1 (checked by the simulator only once
    everything had started, found by a stranger's try: `--anomalies 2`)."""
    value = number(raw)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"--anomalies {raw}: a share, from 0 to 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except OSError as exc:
        # a file or folder the person named that cannot be written or read (found by a
        # stranger's try: tracebacks for `--out` in a missing folder, on a folder, ...)
        log.debug("%s", args.command, exc_info=exc)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"borderflow {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except SettingError as exc:  # the database, broker or a port a setting names
        print(f"borderflow {args.command}: {exc}", file=sys.stderr)
        return 2
    except GateConfigError as exc:
        # a gate file or the default gate of the system, before anything starts (found by a
        # stranger's try: `borderflow up` on a folder holding a broken gate file ended in a
        # traceback)
        print(f"borderflow {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        # the control room's too, built again by the API's lifespan: a value refused there
        # (an image source that is not an origin) ended the API's start in a traceback
        ControlSettings()
    except ValidationError as exc:
        # one line per setting refused, naming its variable (was pydantic's dump)
        for line in setting_errors(exc, [*SETTINGS_CLASSES, ControlSettings]):
            print(f"borderflow {args.command}: {line}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    if args.command == "up" and args.side is not None:
        from services.xborder.corridor import side_settings

        settings = side_settings(settings, args.side)
    if args.command == "up":
        from services.cli.supervisor import main_up

        return main_up(
            settings,
            simulator=not args.no_simulator,
            trucks=args.trucks,
            speedup=args.speedup,
            seed=args.seed,
            anomaly_rate=args.anomalies,
            start=args.start,
        )
    if args.command == "broker":
        from services.cli.commands import run_broker

        return asyncio.run(run_broker(settings, port=args.port))
    if args.command == "migrate":
        from services.cli.commands import run_migrate

        return asyncio.run(run_migrate(settings))
    if args.command == "xborder":
        from services.xborder.cli import main_xborder

        return main_xborder(settings, args)
    if args.command == "worker":
        from services.cli.commands import run_worker

        return asyncio.run(run_worker(settings, args.name))
    if args.command == "api":
        from services.cli.commands import run_api

        return asyncio.run(run_api(settings))
    if args.command == "simulate-traffic":
        from services.cli.supervisor import run_simulate_traffic

        return asyncio.run(
            run_simulate_traffic(
                settings,
                trucks=args.trucks,
                speedup=args.speedup,
                seed=args.seed,
                noise=args.noise,
                seed_manifests_too=not args.no_manifests,
                start=args.start,
            )
        )
    if args.command == "firms":
        from services.cli.firms import main_firms

        return asyncio.run(main_firms(settings, args))
    if args.command == "manifests":
        from services.cli.manifest_import import main_import

        return asyncio.run(main_import(settings, args.file))
    if args.command == "match":
        from services.cli.match_batch import main_match

        return main_match(manifests=args.manifests, reads=args.reads, out=args.out)
    if args.command == "simulate":
        from services.cli.simulate import main_simulate

        return main_simulate(
            gate_id=args.gate,
            trucks=args.trucks,
            policy=args.policy,
            seed=args.seed,
            out=args.out,
            gates_dir=settings.gates_dir,
            day=args.day,
        )
    if args.command == "recognize":
        from services.cli.recognize import main_recognize

        return main_recognize(args.images, vote=args.vote)
    if args.command == "controllers":
        return asyncio.run(audit_cmd.main_controllers(settings, args))
    if args.command == "audit":
        return asyncio.run(audit_cmd.main_audit(settings, args))
    if args.command in ("archive", "replay", "redrive"):
        from services.replay import commands as replay_commands

        run = {
            "archive": replay_commands.main_archive,
            "replay": replay_commands.main_replay,
            "redrive": replay_commands.main_redrive,
        }[args.command]
        return asyncio.run(run(settings, args))
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
