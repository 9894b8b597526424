"""The live hub of one API process: learns of changes from Kafka (lane decisions, lane
events, controller actions: a consumer of its own, no group, from the newest offset),
rebuilds the changed gate's snapshot once per burst and hands it to every open stream,
with what changed since the gate's previous snapshot (`services.control.patch`).

A stream's queue holds one item: a page that reads slowly gets the newest snapshot, never a
backlog. Each snapshot carries `seq` (the SSE event id); a stream sends the difference when
its page holds the snapshot it applies to, and the whole snapshot otherwise (at connect,
after a skipped one). A page that reconnects gets the current snapshot at once, so it
catches up whatever it missed.

A lane event is heard as it is sent, before the orchestrator applied it to the board: the
hub rebuilds then, and again once the orchestrator's transaction that recorded it has
committed (`stored`, asked every `poll_s` while one is awaited). A change that revises no
decision (a carrier out of service with no trip, a lane with no queue closed) has no lane
decision to tell of it; until 2026-12-06 the room showed it at the next refresh."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer

from services.control.patch import diff
from services.runtime.settings import KafkaSettings
from streams.clients import consumer_kwargs
from streams.runtime import stop_quietly
from streams.topics import ALERTS, CONTROLLER_ACTIONS, LANE_DECISIONS, LANE_EVENTS

log = logging.getLogger(__name__)

Builder = Callable[[str], Awaitable[dict[str, Any]]]
Stored = Callable[[list[str]], Awaitable[set[str]]]  # which of these lane events are applied
AWAITED_MAX = 1000  # lane events awaited at once; past it, one is rebuilt for at once


@dataclass
class Published:
    seq: int
    data: str  # the snapshot as JSON text, serialised once for every stream
    base: int | None = None  # the seq `patch` applies to: the gate's previous snapshot
    patch: str | None = None  # what changed since `base` (`services.control.patch`), as JSON


@dataclass
class LiveHub:
    build: Builder
    gates: Iterable[str]
    debounce_s: float = 0.05
    refresh_s: float = 10.0
    stored: Stored | None = None  # None: lane events are not awaited (the refresh shows them)
    poll_s: float = 0.1  # how often `stored` is asked while a lane event is awaited
    wait_s: float = 60.0  # a lane event not applied by then (refused: dead-lettered) is dropped
    latest: dict[str, Published] = field(default_factory=dict)
    _snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)  # as last published
    _streams: dict[str, set[asyncio.Queue[Published]]] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _seq: int = 0
    _built: dict[str, float] = field(default_factory=dict)  # monotonic time of each snapshot
    _awaited: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> gate, until
    listening: bool = False

    def notify(self, gate_id: str) -> None:
        if gate_id in self._known:
            self._dirty.add(gate_id)
            self._wake.set()

    def await_lane_event(self, gate_id: str, event_id: str) -> None:
        """Rebuild the gate's snapshot once the orchestrator has applied this lane event."""
        if self.stored is None or gate_id not in self._known:
            return
        if len(self._awaited) < AWAITED_MAX:
            self._awaited[event_id] = (gate_id, time.monotonic() + self.wait_s)
        else:  # a flood: the periodic refresh shows this one (the next polls the others)
            self.notify(gate_id)

    @property
    def _known(self) -> set[str]:
        return set(self.gates)

    async def current(self, gate_id: str) -> Published:
        """The gate's snapshot: the one published, unless nobody streams the gate and it is
        `refresh_s` old or more (the periodic refresh rebuilds only the gates someone
        streams, and plate reads that change no decision, an exit read say, notify nothing:
        a client polling `GET /control/api/state` saw the first snapshot for ever)."""
        found = self.latest.get(gate_id)
        stale = (
            found is not None
            and not self._streams.get(gate_id)
            and time.monotonic() - self._built.get(gate_id, 0.0) >= self.refresh_s
        )
        if found is None or stale or gate_id in self._dirty:
            # a change notified and not rebuilt yet (the loop waits `debounce_s` for the
            # burst): built now, so a client that acted and then asks sees its action (a
            # release read as still held, 2026-12-06); the streams get it as a patch
            self._dirty.discard(gate_id)
            found = await self._publish(gate_id)
        return found

    @contextlib.asynccontextmanager
    async def subscribe(self, gate_id: str) -> AsyncIterator[asyncio.Queue[Published]]:
        queue: asyncio.Queue[Published] = asyncio.Queue(maxsize=1)
        self._streams.setdefault(gate_id, set()).add(queue)
        try:
            yield queue
        finally:
            self._streams[gate_id].discard(queue)

    @property
    def streams(self) -> int:
        return sum(len(s) for s in self._streams.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Rebuild dirty gates after each burst, and those whose awaited lane event was
        applied (and every `refresh_s` regardless)."""
        refresh_at = time.monotonic() + self.refresh_s
        while not stop.is_set():
            # a change, the periodic refresh, a poll for an awaited lane event, or the stop:
            # whichever comes first (waiting on the change alone held a shutdown for the
            # whole refresh period)
            timeout = max(0.0, refresh_at - time.monotonic())
            if self._awaited:
                timeout = min(timeout, self.poll_s)
            woken, stopping = (
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(stop.wait()),
            )
            await asyncio.wait({woken, stopping}, timeout=timeout, return_when=FIRST_COMPLETED)
            for waiting in (woken, stopping):
                waiting.cancel()
            if stop.is_set():
                return
            if time.monotonic() >= refresh_at:  # periodic refresh of the gates someone watches
                self._dirty |= {g for g, s in self._streams.items() if s}
                refresh_at = time.monotonic() + self.refresh_s
            await self._applied()
            if not self._dirty:  # a poll that found nothing applied yet
                self._wake.clear()  # (no change pending: a notify marks its gate dirty)
                continue
            await asyncio.sleep(self.debounce_s)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for gate_id in sorted(dirty):
                if not self._streams.get(gate_id):  # nobody watches: build on demand
                    self.latest.pop(gate_id, None)
                    self._snapshots.pop(gate_id, None)
                    continue
                try:
                    await self._publish(gate_id)
                except Exception:
                    log.exception("control room: snapshot of %s failed", gate_id)
                    self._dirty.add(gate_id)

    async def _applied(self) -> None:
        """Mark dirty the gates whose awaited lane events the orchestrator has applied (its
        transaction committed: the snapshot built now shows them)."""
        if not self._awaited or self.stored is None:
            return
        try:
            applied = await self.stored(sorted(self._awaited))
        except Exception:
            log.exception("control room: could not tell which lane events are applied")
            return
        now = time.monotonic()
        for event_id, (gate_id, until) in list(self._awaited.items()):
            if event_id in applied:
                self._dirty.add(gate_id)
            if event_id in applied or now >= until:
                del self._awaited[event_id]

    async def _publish(self, gate_id: str) -> Published:
        started = time.perf_counter()
        snapshot = await self.build(gate_id)
        snapshot["build_ms"] = round((time.perf_counter() - started) * 1000, 1)
        self._seq += 1
        snapshot["seq"] = self._seq
        snapshot["live"] = self.listening
        previous, before = self._snapshots.get(gate_id), self.latest.get(gate_id)
        published = Published(self._seq, json.dumps(snapshot, separators=(",", ":")))
        if previous is not None and before is not None:
            published.base = before.seq
            published.patch = json.dumps(
                {"base": before.seq, "seq": self._seq, "diff": diff(previous, snapshot)},
                separators=(",", ":"),
            )
        self._snapshots[gate_id] = snapshot
        self.latest[gate_id] = published
        self._built[gate_id] = time.monotonic()
        for queue in list(self._streams.get(gate_id, ())):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(published)
        return published


def _data(value: bytes | None) -> dict[str, Any] | None:
    """A record's event (`data` of its envelope), or None if it is not a JSON object."""
    try:
        body = json.loads(value or b"")
        data = body.get("data", body)
    except (ValueError, AttributeError):
        return None
    return data if isinstance(data, dict) else None


def lane_event_id(value: bytes | None) -> str | None:
    """The `event_id` of a lane event's record (None if it has none: the orchestrator
    dead-letters it)."""
    found = (_data(value) or {}).get("event_id")
    return found if isinstance(found, str) and found else None


def gate_of(topic: str, key: bytes | None, value: bytes | None) -> str | None:
    """The gate a record is about: the key on gate-keyed topics, `data.gate_id` in a
    lane decision."""
    if topic != LANE_DECISIONS.name:
        return None if key is None else key.decode(errors="replace")
    gate = (_data(value) or {}).get("gate_id")
    return gate if isinstance(gate, str) else None


async def listen(
    hub: LiveHub, *, settings: KafkaSettings, bootstrap: str, stop: asyncio.Event
) -> None:
    """Feed the hub from Kafka until `stop`; a lost broker is retried with backoff (the
    hub's periodic refresh keeps the page honest meanwhile: `live` is false)."""
    delay = 0.2
    topics = (LANE_DECISIONS.name, LANE_EVENTS.name, CONTROLLER_ACTIONS.name, ALERTS.name)
    while not stop.is_set():
        kwargs = consumer_kwargs(settings, bootstrap)
        consumer = AIOKafkaConsumer(
            *topics,
            **kwargs,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=20,
        )
        try:
            await consumer.start()
            hub.listening = True
            for gate in hub.gates:
                hub.notify(gate)  # whatever happened while not listening
            delay = 0.2
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        about = gate_of(record.topic, record.key, record.value)
                        if about is None:
                            continue
                        hub.notify(about)
                        if record.topic == LANE_EVENTS.name:
                            event_id = lane_event_id(record.value)
                            if event_id is not None:
                                hub.await_lane_event(about, event_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("control room: change feed lost (%s); retrying in %.1f s", exc, delay)
        finally:
            hub.listening = False
            # as the workers' consumers: with the broker gone, aiokafka's stop() raised a
            # CancelledError of its own fetch, and the API's shutdown failed on it
            await stop_quietly(consumer, "control-room feed")
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 10.0)
