"""Call-forward's unit of work in memory (the use case's unit tests): boards, manifests,
active bookings, the queues, the drivers' pages and the calls' outbox in dicts. A
transaction's writes (but the called places') are kept only when it ends normally."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lanes.board import Board
from lanes.model import Gate, Manifest
from lanes.policy.callforward import CalledPlace, CallEvent
from lanes.similarity import index_keys
from services.db.called import called_after
from services.ports import ArrivingBooking, CallForwardStore, CallForwardStores, QueueSnapshot
from streams.calls import call_to_wire


@dataclass
class MemoryCallForward:
    boards: dict[str, Board] = field(default_factory=dict)
    manifests: list[Manifest] = field(default_factory=list)
    bookings: dict[tuple[str, str], ArrivingBooking] = field(default_factory=dict)
    queues: dict[str, QueueSnapshot] = field(default_factory=dict)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # page key -> data
    page_visits: dict[str, str] = field(default_factory=dict)  # page key -> visit id
    # gate -> manifest id -> (its latest call, arrived): what the gate's decider is told
    called: dict[str, dict[str, tuple[CalledPlace, bool]]] = field(default_factory=dict)
    # the calls' outbox, in the order written: call id -> [its wire data, published at]
    calls: dict[str, list[Any]] = field(default_factory=dict)

    def stores(self) -> CallForwardStores:
        @asynccontextmanager
        async def transaction() -> AsyncIterator[CallForwardStore]:
            work = MemoryCallForwardStore(self)
            yield work
            self.queues.update(work.queues)
            self.pages.update(work.pages)
            self.page_visits.update(work.page_visits)
            for call_id, entry in work.calls.items():
                self.calls.setdefault(call_id, entry)
            for call_id, at in work.published.items():
                if call_id in self.calls:
                    self.calls[call_id][1] = at
            for call_id in work.purged:
                self.calls.pop(call_id, None)

        return transaction


class MemoryCallForwardStore:
    def __init__(self, data: MemoryCallForward) -> None:
        self.data = data
        self.queues: dict[str, QueueSnapshot] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.page_visits: dict[str, str] = {}
        self.calls: dict[str, list[Any]] = {}
        self.published: dict[str, datetime | None] = {}
        self.purged: set[str] = set()

    async def board(self, gate: Gate) -> Board:
        return self.data.boards.get(gate.gate_id) or Board.for_gate(gate)

    async def manifests_for_keys(
        self, keys: Iterable[str], *, ended_after: datetime
    ) -> list[Manifest]:
        wanted = {k for k in keys if k}
        found = {
            m.manifest_id: m
            for m in self.data.manifests
            if wanted & (set(index_keys(m.tractor_plate)) | set(index_keys(m.trailer_plate or "")))
            and (m.window_end is None or m.window_end >= ended_after)
        }
        return [found[i] for i in sorted(found)]

    async def manifest(self, firm_id: str, manifest_id: str) -> Manifest | None:
        return next(
            (
                m
                for m in self.data.manifests
                if m.manifest_id == manifest_id and m.firm_id == firm_id
            ),
            None,
        )

    async def active_booking(self, gate_id: str, manifest_id: str) -> ArrivingBooking | None:
        return self.data.bookings.get((gate_id, manifest_id))

    async def queue(self, gate_id: str) -> QueueSnapshot | None:
        return self.queues.get(gate_id) or self.data.queues.get(gate_id)

    async def save_queue(self, gate_id: str, snapshot: QueueSnapshot, *, now: datetime) -> None:
        self.queues[gate_id] = snapshot

    async def save_called(
        self,
        gate_id: str,
        calls: Sequence[CalledPlace],
        *,
        arrived: Iterable[str],
        purge_before: datetime | None,
        now: datetime,
        reached: Sequence[CalledPlace] = (),
    ) -> None:
        """`called_after`, as the database's (written at once: the unit tests of the use case
        do not roll back)."""
        kept = self.data.called.get(gate_id, {})
        self.data.called[gate_id] = called_after(
            kept, calls, arrived=arrived, purge_before=purge_before, reached=reached
        )

    async def save_pages(
        self,
        states: Mapping[str, Mapping[str, Any]],
        *,
        visits: Mapping[str, str],
        now: datetime,
    ) -> None:
        self.pages.update({key: dict(data) for key, data in states.items()})
        self.page_visits.update(visits)

    async def add_calls(self, calls: Sequence[CallEvent], *, now: datetime) -> list[CallEvent]:
        added = []
        for call in calls:
            wire = call_to_wire(call)
            if wire.call_id not in self.data.calls and wire.call_id not in self.calls:
                self.calls[wire.call_id] = [wire.model_dump(mode="json"), None]
                added.append(call)
        return added

    async def unpublished_calls(self, limit: int) -> list[dict[str, Any]]:
        return [dict(data) for data, at in self.data.calls.values() if at is None][:limit]

    async def mark_calls_published(self, call_ids: Sequence[str], *, at: datetime) -> None:
        self.published.update(dict.fromkeys(call_ids, at))

    async def unmark_calls_published_since(self, since: datetime) -> int:
        again = [i for i, (_, at) in self.data.calls.items() if at is not None and at >= since]
        self.published.update(dict.fromkeys(again))
        return len(again)

    async def purge_published_calls(self, before: datetime) -> int:
        old = {i for i, (_, at) in self.data.calls.items() if at is not None and at < before}
        self.purged |= old
        return len(old)
