"""Prometheus metrics of the services, each defined once, on the one registry of
`streams.metrics` (which defines the stream runtime's own).

The API serves them at `GET /metrics` (services/api/metrics.py); a worker, which has no HTTP
server, serves them on `BORDERFLOW_METRICS_PORT` (`serve_worker_metrics`). Label values are
bounded: topics, consumer groups, route templates, gates and lanes, never ids.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from prometheus_client import (
    Gauge,
    Histogram,
    start_http_server,
)

from services.runtime.setting_errors import SettingError
from streams.metrics import REGISTRY

DECISION_SECONDS = Histogram(
    "borderflow_decision_batch_seconds",
    "Time to decide one consumer batch of plate reads: match, policy and the transaction",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "borderflow_http_request_duration_seconds",
    "API request latency by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
CAMERA_CLOCK_SKEW = Gauge(
    "borderflow_camera_clock_skew_seconds",
    "A camera's last read: captured_at minus its Kafka record's timestamp (positive: the "
    "camera's clock is ahead); reads beyond the window are dead-lettered as clock-skew",
    ["camera_id"],
    registry=REGISTRY,
)
LANE_QUEUE = Gauge(
    "borderflow_lane_queue_length",
    "Trucks assigned to a lane and not yet through, at the latest event time (API scrape)",
    ["gate", "lane"],
    registry=REGISTRY,
)
REVIEW_QUEUE = Gauge(
    "borderflow_review_queue_length",
    "Visits whose decision is needs_review, per gate (API scrape)",
    ["gate"],
    registry=REGISTRY,
)

P = ParamSpec("P")
R = TypeVar("R")


def timed(histogram: Histogram) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Observe an async function's duration in `histogram`, failures included."""

    def decorate(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return await func(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        return wrapper

    return decorate


def serve_worker_metrics(port: int | None, host: str = "0.0.0.0") -> None:
    """Serve `/metrics` from a background thread (workers have no HTTP server). None: off."""
    if port is None:
        return
    try:
        start_http_server(port, addr=host, registry=REGISTRY)
    except OSError as exc:  # was the bare reason, 'Address already in use'
        raise SettingError(
            f"BORDERFLOW_METRICS_PORT={port}: cannot serve /metrics on {host}:{port} "
            f"({exc.strerror or exc})"
        ) from exc
