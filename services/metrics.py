"""Prometheus metrics: one registry, every metric borderflow exports, defined once.

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
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # CPU, memory, open files of this process

EVENTS_CONSUMED = Counter(
    "borderflow_events_consumed",
    "Records consumed, valid or not, per topic and consumer group",
    ["topic", "group"],
    registry=REGISTRY,
)
EVENTS_DEAD_LETTERED = Counter(
    "borderflow_events_dead_lettered",
    "Records sent to the topic's dead-letter twin, per source topic and kind of failure",
    ["topic", "group", "error_type"],
    registry=REGISTRY,
)
EVENTS_PRODUCED = Counter(
    "borderflow_events_produced",
    "Events published and acknowledged by the broker, per topic",
    ["topic"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "borderflow_consumer_lag",
    "Records behind the partition's high watermark, per partition this process holds",
    ["group", "topic", "partition"],
    registry=REGISTRY,
)
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
BROKER_UP = Gauge(
    "borderflow_broker_up",
    "1 while the Kafka broker answers this process's watch (streams/watch.py), 0 when not",
    registry=REGISTRY,
)
BROKER_RESTARTS = Counter(
    "borderflow_broker_restarts_total",
    "Times the broker came back as a new, empty cluster (the decisions since were re-sent)",
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
    if port is not None:
        start_http_server(port, addr=host, registry=REGISTRY)
