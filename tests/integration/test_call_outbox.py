"""The calls leave through an outbox (issue 23: "each call is an event on borderflow.calls,
retried, never sent twice for the same call"), on a real database (SQLite, PostgreSQL), no
broker: the call-forward worker writes each call in its batch's transaction (`call_events`)
and publishes it once that transaction has committed. Until 2026-12-06 the desk published a
call as it decided it, inside the transaction: a batch rolled back had its call out for a
queue never saved, and a notifier quick enough found no page following the truck."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.model import Direction, Manifest
from services.adapters.call_outbox import CallOutbox
from services.adapters.sql_callforward import sql_callforward_stores
from services.bootstrap import make_callforward
from services.db.call_tables import CallEventRow, CallForwardQueueRow
from services.db.driver_tables import DriverPageRow
from services.db.engine import session_factory
from services.db.manifests import store_manifests
from services.drivers.desk import desk_maker
from services.gates.loader import default_gates
from services.notify.routing import CallRouter
from services.notify.sms import FakeSmsSink
from services.service_layer.callforward import StepWaitingAreasHandler
from services.workers.callforward import CallForwardWorker
from streams.calls import CallEventV1
from streams.events import PlateReadV1
from streams.runtime import Inbound
from tests.integration.test_bookings_api import add_firms
from tests.unit.test_callforward_handlers import commit_refused_once

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 at Huu Nghi (+07:00): lanes open
AREA = "hn-imp-approach-1"
MIN = timedelta(minutes=1)


def read(
    event_id: str, plate: str, camera: str = AREA, at: datetime = T0
) -> list[Inbound[PlateReadV1]]:
    wire = PlateReadV1(
        event_id=event_id, camera_id=camera, captured_at=at, plate_text=plate, confidence=0.97
    )
    return [Inbound("borderflow.plate-reads", 0, 0, camera.encode(), wire)]


async def walk_in(engine: AsyncEngine) -> None:
    """Firm W's import truck 20C33333, no booking: called as it enters the area."""
    await add_firms(engine, ["firm-w"])
    truck = Manifest(
        manifest_id="W-1", firm_id="firm-w", direction=Direction.IMPORT, tractor_plate="20C33333"
    )
    async with session_factory(engine)() as session, session.begin():
        await store_manifests(session=session, manifests=[truck], source="http", now=T0)


async def test_a_batch_rolled_back_after_its_call_publishes_it_once_when_retried(
    engine: AsyncEngine,
) -> None:
    """The desk calls the truck as it enters the area, and sees it reach the gate, then the
    batch's commit fails: nothing is published and nothing is kept. The runtime's retry
    (the same worker) calls it again, publishes the call once, and the outbox marks it
    published. That batch redelivered (its offsets not committed: the broker away, a
    crash) is stepped again: the truck is queued and called again under the same call id,
    which the outbox already has: not sent again."""
    await walk_in(engine)
    sessions = session_factory(engine)
    stores = sql_callforward_stores(sessions, secret=b"outbox test")
    sent: list[CallEventV1] = []

    async def publish(call: CallEventV1) -> None:
        sent.append(call)

    worker = CallForwardWorker(
        step=StepWaitingAreasHandler(
            uow=commit_refused_once(stores),
            gates=default_gates(),
            new_desk=desk_maker(b"outbox test"),
            calls=CallOutbox(stores=stores, publish=publish),
        )
    )
    batch = read("r-1", "20C33333") + read("r-2", "20C33333", "hn-imp-gate-1", T0 + 5 * MIN)
    with pytest.raises(RuntimeError, match="commit refused"):
        await worker.handle(batch)
    assert sent == []  # before: the call, for a queue that was rolled back
    async with sessions() as session:
        for table in (CallEventRow, CallForwardQueueRow, DriverPageRow):
            assert (await session.scalars(select(table))).all() == []

    await worker.handle(batch)  # the retry
    assert [(c.type, c.call_id) for c in sent] == [("truck.called", "wa-r-1/call-1")]
    stats = worker.stats
    assert (stats.reads, stats.entered, stats.at_gate) == (2, 1, 1)  # counted once
    await worker.idle()  # marks what was sent
    await worker.handle(batch)  # redelivered
    await worker.idle()
    assert len(sent) == 1
    async with sessions() as session:
        (row,) = (await session.scalars(select(CallEventRow))).all()
        page = await session.scalar(select(DriverPageRow).where(DriverPageRow.visit_id == "wa-r-1"))
    assert row.call_id == "wa-r-1/call-1" and row.published_at is not None
    assert CallEventV1.model_validate(row.payload) == sent[0]
    assert page is not None and page.state["status"] == "at_gate"


async def test_a_call_is_on_the_topic_only_once_its_page_is_committed(engine: AsyncEngine) -> None:
    """What the notifier does with a call as it takes it (`CallRouter.phone`: the page that
    follows the truck) finds the page, asked from its own connection the moment the call
    is published. Before, the call went out before the batch that made the page committed
    (the notifier's retry, bc56c73, covered for it)."""
    await walk_in(engine)
    sessions = session_factory(engine)
    seen: list[tuple[str, bool]] = []
    async with httpx.AsyncClient() as client:
        router = CallRouter(sessions=sessions, client=client, sms=FakeSmsSink())

        async def publish(call: CallEventV1) -> None:
            await router.phone(call.visit_id)  # NotifierDown: no page follows it yet
            async with sessions() as session:
                stored = await session.scalar(
                    select(CallEventRow.call_id).where(CallEventRow.call_id == call.call_id)
                )
            seen.append((call.call_id, stored is not None))

        worker = make_callforward(
            sessions=sessions, gates=default_gates(), publish=publish, secret=b"outbox test"
        )
        await worker.handle(read("r-1", "20C-333.33"))
    assert seen == [("wa-r-1/call-1", True)]


async def test_an_area_read_handled_after_the_truck_reached_the_gate_calls_it_no_more(
    engine: AsyncEngine,
) -> None:
    """The truck read at the area at 10:00 and at the gate at 10:05; a worker restarted
    after that takes two area reads of it late (its camera's partition behind): 10:01, the
    truck still in the area, and 10:08, within the gate's visit window. Neither queues nor
    calls it (before: wa-r-3/call-1, a call for a truck at the gate): the time it reached
    the gate is kept in the queue's snapshot. Read there again at 10:16, past the window,
    it is an arrival as any (the matcher's to attribute): called."""
    await walk_in(engine)
    sessions = session_factory(engine)
    sent: list[CallEventV1] = []

    async def publish(call: CallEventV1) -> None:
        sent.append(call)

    def worker() -> CallForwardWorker:
        return make_callforward(
            sessions=sessions, gates=default_gates(), publish=publish, secret=b"outbox test"
        )

    gate_in = "hn-imp-gate-1"
    await worker().handle(read("r-1", "20C33333") + read("r-2", "20C33333", gate_in, T0 + 5 * MIN))
    again = worker()  # a restart: the queue, and when the truck reached the gate, from the row
    await again.handle(
        read("r-3", "20C33333", at=T0 + MIN) + read("r-4", "20C-333.33", at=T0 + 8 * MIN)
    )
    assert [c.call_id for c in sent] == ["wa-r-1/call-1"]
    async with sessions() as session:
        row = await session.get(CallForwardQueueRow, "huu-nghi")
    assert row is not None and row.snapshot["queue"] == []
    assert row.snapshot["reached"] == {"W-1": (T0 + 5 * MIN).isoformat()}

    await again.handle(read("r-5", "20C33333", at=T0 + 16 * MIN))
    assert [c.call_id for c in sent] == ["wa-r-1/call-1", "wa-r-5/call-1"]
