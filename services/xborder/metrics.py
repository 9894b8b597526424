"""The link's Prometheus metrics (the project's registry, services/runtime/metrics.py)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from streams.metrics import REGISTRY

REFUSED = Counter(
    "borderflow_xborder_refused",
    "Messages of the other side refused and dead-lettered, per reason (unsigned, "
    "unknown_key, bad_signature, invalid, replayed, reordered): alert on any increase",
    ["sender", "reason"],
    registry=REGISTRY,
)
REFUSALS_SENT = Counter(
    "borderflow_xborder_refusals_sent",
    "Refusals sent back to the other side, one per record refused that names a message "
    "(not for a refusal of its own)",
    ["side"],
    registry=REGISTRY,
)
REFUSED_BY_PEER = Counter(
    "borderflow_xborder_refused_by_peer",
    "This side's messages the other side refused and said so (its refusal messages), per "
    "kind: alert on any increase",
    ["receiver", "reason"],
    registry=REGISTRY,
)
APPLIED = Counter(
    "borderflow_xborder_applied",
    "Messages of the other side applied (exactly once each), per type",
    ["sender", "type"],
    registry=REGISTRY,
)
SENT = Counter(
    "borderflow_xborder_sent",
    "Signed messages taken by the other side's broker",
    ["side"],
    registry=REGISTRY,
)
PENDING = Gauge(
    "borderflow_xborder_pending",
    "Signed messages stored on this side and not yet taken by the other side's broker",
    ["side"],
    registry=REGISTRY,
)
LAG_SECONDS = Gauge(
    "borderflow_xborder_lag_seconds",
    "Age (wall clock) of the oldest message not yet taken by the other side's broker; 0 "
    "when none waits",
    ["side"],
    registry=REGISTRY,
)
UNACKED = Gauge(
    "borderflow_xborder_unacked",
    "Messages sent and not yet acknowledged by the other side",
    ["side"],
    registry=REGISTRY,
)
