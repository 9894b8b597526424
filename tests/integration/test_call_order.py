"""A truck's calls reach each channel in their order, retries included (found 2026-12-06 as
a stranger firm's dispatcher on `borderflow up`: the firm's webhook was down while its truck
was called and then recalled; once it came back, the recall was posted before the call,
the call's retry being further off in its backoff than the recall's first ones). The
firm's system then took the stale call for the truck's news. Each channel is held, not the
whole call: the driver's SMS of the recall is not kept waiting by the firm's webhook."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.bootstrap import make_call_notifier
from services.db.call_tables import CallNotificationRow
from services.db.engine import session_factory
from services.notify.sms import FakeSmsSink
from services.ports.calls import CallNotice
from services.service_layer.call_notices import KeepCalls, Retries
from streams.calls import call_to_wire
from tests.integration.test_call_notifications import (
    T0,
    _Firm,
    _public,
    call_notice_of,
    calls_of_a_morning,
)


def recall_of(call: CallNotice) -> CallNotice:
    payload = dict(call.payload) | {
        "call_id": call.call_id.replace("/call-1", "/call-2"),
        "type": "truck.recalled",
    }
    return CallNotice(payload["call_id"], call.visit_id, call.gate_id, "truck.recalled", payload)


async def test_a_recall_reaches_the_firms_webhook_after_the_call(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    (called,) = calls_of_a_morning(1)
    call = call_notice_of(call_to_wire(called))
    recall = recall_of(call)
    firm_up = False
    posted: list[str] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        if firm_up:
            posted.append(request.headers["Idempotency-Key"])
        return httpx.Response(204 if firm_up else 503)

    sink = FakeSmsSink()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        worker = make_call_notifier(
            sessions=sessions,
            notifier=_Firm(sessions=sessions, client=client, sms=sink, resolve=_public),
            retries=Retries(first=timedelta(0)),
        )
        await worker.notices.keep(KeepCalls((call,)))
        assert await worker.deliver_due() == 0  # the webhook down; the SMS went
        await worker.notices.keep(KeepCalls((recall,)))
        assert await worker.deliver_due() == 0  # the webhook still down
        # the driver was texted the recall at once, the firm's webhook down or not
        assert [sms.key for sms in sink.sent] == [call.call_id, recall.call_id]

        # the call's retry is further off in its backoff than the recall's: the webhook
        # comes back while only the recall is due
        async with sessions.begin() as session:
            await session.execute(
                update(CallNotificationRow)
                .where(CallNotificationRow.call_id == call.call_id)
                .values(next_attempt_at=T0 + timedelta(days=3650))
            )
        firm_up = True
        await worker.deliver_due()
        assert posted == []  # not the recall before the call

        async with sessions.begin() as session:  # time passes: every retry due
            await session.execute(update(CallNotificationRow).values(next_attempt_at=T0))
        while await worker.deliver_due():
            pass
    assert posted == [call.call_id, recall.call_id]
    assert [sms.key for sms in sink.sent] == [call.call_id, recall.call_id]  # once each
