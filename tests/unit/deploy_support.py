"""What the deploy/ tests share: the files, the production topic table, the image's roles
(deploy/entrypoint.sh run with a stub `borderflow` that prints the command it was given)
and which consumer group and topic each worker role has in the code."""

from __future__ import annotations

import argparse
import os
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Any

import yaml

from services.bootstrap import (
    archiver_consumer_group,
    call_notifier_consumer_group,
    callforward_consumer_group,
    lane_events_consumer_group,
    manifests_consumer_group,
    recognizer_consumer_group,
)
from services.cli.main import _parser
from services.runtime.settings import Settings
from streams.topics import CALLS, CAMERA_FRAMES, LANE_EVENTS, MANIFESTS, PLATE_READS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
PROJECT_IMAGES = ("borderflow", "registry.example.org/borderflow")
# official images, pinned: repository -> why it is trusted
OFFICIAL = {
    "apache/kafka": "Apache Kafka's own image",
    "postgres": "Docker Official Image",
    "prom/prometheus": "the Prometheus project's image",
}


# workers that hold state one replica must own (issue 23: each gate's waiting queue): one
# replica, no autoscaling
SINGLE_REPLICA = frozenset({"callforward"})


def worker_roles() -> dict[str, tuple[str, str | None]]:
    """Worker role -> (consumer group, topic; None: every topic), from the code's own
    definitions."""
    settings = Settings()
    return {
        "matcher": (settings.consumer_group, PLATE_READS.name),
        "orchestrator": (lane_events_consumer_group(settings), LANE_EVENTS.name),
        "manifests": (manifests_consumer_group(settings), MANIFESTS.name),
        "recognizer": (recognizer_consumer_group(settings), CAMERA_FRAMES.name),
        "archiver": (archiver_consumer_group(settings), None),
        "callforward": (callforward_consumer_group(settings), PLATE_READS.name),
        "call-notifier": (call_notifier_consumer_group(settings), CALLS.name),
    }


def production_topics() -> dict[str, tuple[int, int]]:
    """deploy/topics.txt: name -> (partitions, retention ms)."""
    return {name: (p, r) for name, (p, r, _) in production_topic_rows().items()}


def production_topic_rows() -> dict[str, tuple[int, int, str | None]]:
    """deploy/topics.txt: name -> (partitions, retention ms, timestamp type or None)."""
    topics: dict[str, tuple[int, int, str | None]] = {}
    for line in (DEPLOY / "topics.txt").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, partitions, retention, *rest = line.split()
        assert name not in topics, f"{name} declared twice"
        assert len(rest) <= 1, f"{name}: name, partitions, retention and a timestamp type"
        topics[name] = (int(partitions), int(retention), rest[0] if rest else None)
    return topics


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def role_command(role_args: list[str], tmp_path: Path) -> list[str]:
    """The `borderflow` command line deploy/entrypoint.sh runs for the container args."""
    stub = tmp_path / "bin" / "borderflow"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{stub.parent}:/usr/bin:/bin")
    done = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), *role_args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def assert_cli_accepts(argv: list[str]) -> None:
    """The real `borderflow` parser accepts `argv` (SystemExit otherwise)."""
    try:
        _parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"borderflow {shlex.join(argv)} is not a valid command") from exc


def cli_choices(command: str, dest: str) -> list[str]:
    """The choices of argument `dest` of `borderflow COMMAND` (e.g. the worker names)."""
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub = commands.choices[command]
    return list(next(a for a in sub._actions if a.dest == dest).choices or ())
