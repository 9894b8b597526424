"""The process's one Prometheus registry and the metrics of the stream runtime (records
consumed, dead-lettered, produced, consumer lag, the broker watch). The services define
theirs on the same registry (`services.runtime.metrics`); label values are bounded."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge
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

EVENTS_MISKEYED = Counter(
    "borderflow_events_miskeyed",
    "Records taken although not keyed by the field the topic is keyed by (no key, another "
    "key): their order against the same thing's other records is then the producer's",
    ["topic", "group"],
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
