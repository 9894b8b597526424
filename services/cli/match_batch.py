"""`borderflow match`: plate reads matched against manifests offline, one JSON line per read.

Manifests (JSONL, the intake form, `firm_id` required) are loaded into memory; a later line
with the same `manifest_id` replaces an earlier one. Reads (JSONL, the plate-reads form) are
streamed: each is matched on its own, with the direction of its camera when the camera is
one of the configured gates', and answered by one line, in input order:

    {"read_id": "...", "manifest_id": "..." | null, "outcome": "matched", "score": 0.93}

A line that cannot be used is reported on standard error as `FILE:LINE: field: reason`; a
bad read line is also answered, at its place, by an `"outcome": "invalid"` line with the
`error`, so output line k always answers read k. Blank lines are skipped. Exit status 0 when
every line was valid, 1 otherwise, 2 when a file cannot be opened.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from lanes.matching import OcrMatcher, PlateIndex
from lanes.model import Direction, Manifest
from services.gates.loader import default_gates
from streams.codec import decode_plate_read, plate_read_from_wire
from streams.errors import InvalidEvent
from streams.manifests import decode_manifest

INVALID = "invalid"


def main_match(*, manifests: str, reads: str, out: str | None) -> int:
    try:
        loaded, manifests_ok = load_manifests(manifests, err=sys.stderr)
        with _open_reads(reads) as source, _open_out(out) as sink:
            counts = match_reads(
                source, PlateIndex(loaded.values(), complete=True), name=reads, sink=sink
            )
    except OSError as exc:
        sys.stderr.write(f"borderflow match: {exc}\n")
        return 2
    summary = ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts.items()))
    sys.stderr.write(
        f"borderflow match: {counts.total()} reads ({summary or 'none'}) against "
        f"{len(loaded)} manifests\n"
    )
    return 0 if manifests_ok and not counts[INVALID] else 1


def load_manifests(path: str, *, err: IO[str]) -> tuple[dict[str, Manifest], bool]:
    """The valid manifests of a JSONL file by manifest_id (the later line wins), and
    whether every line was valid. Each bad line is reported on `err`."""
    found: dict[str, Manifest] = {}
    line_of: dict[str, int] = {}
    all_valid = True
    with Path(path).open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                manifest = decode_manifest(line, require_firm=True).to_domain()
            except InvalidEvent as exc:
                err.write(f"{path}:{number}: {exc.reason}\n")
                all_valid = False
                continue
            mid = manifest.manifest_id
            if mid in found:
                err.write(
                    f"{path}:{number}: manifest_id: {mid!r} also on line {line_of[mid]}; "
                    "this later line wins\n"
                )
            found[mid], line_of[mid] = manifest, number
    return found, all_valid


def match_reads(lines: IO[bytes], index: PlateIndex, *, name: str, sink: IO[str]) -> Counter[str]:
    """Matches each read line of `lines` on its own, writes its answer line to `sink`, and
    returns the count of each outcome (`invalid` for the bad lines)."""
    matcher = OcrMatcher()
    directions: dict[str, Direction] = {
        camera.camera_id: camera.direction
        for gate in default_gates().values()
        for camera in gate.cameras
    }
    counts: Counter[str] = Counter()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            wire = decode_plate_read(line)
        except InvalidEvent as exc:
            sys.stderr.write(f"{name}:{number}: {exc.reason}\n")
            answer: dict[str, Any] = {
                "read_id": _read_id(line),
                "manifest_id": None,
                "outcome": INVALID,
                "score": 0.0,
                "error": f"line {number}: {exc.reason}",
            }
        else:
            read = plate_read_from_wire(wire)
            result = matcher.match(
                [read],
                direction=directions.get(read.camera_id),
                index=index,
                now=read.captured_at,
            )
            answer = {
                "read_id": read.event_id,
                "manifest_id": None if result.manifest is None else result.manifest.manifest_id,
                "outcome": str(result.outcome),
                "score": result.score,
            }
        counts[answer["outcome"]] += 1
        sink.write(json.dumps(answer) + "\n")
    return counts


def _read_id(line: bytes) -> str | None:
    """The id of a read that failed to decode, when its JSON still names one."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    data = obj.get("data")
    for source in (data, obj) if isinstance(data, dict) else (obj,):
        for key in ("event_id", "read_id"):
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


@contextmanager
def _open_reads(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdin.buffer
        return
    with Path(path).open("rb") as lines:
        yield lines


@contextmanager
def _open_out(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with Path(path).open("w", encoding="utf-8", newline="\n") as sink:
        yield sink
