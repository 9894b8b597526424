"""`GET /metrics`: the process's Prometheus metrics (services/runtime/metrics.py), with each gate's
lane queues and review queue read from the database at scrape time (as `/v1/queue` shows
them, at the gate's latest event time)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import generate_latest

from services.api import queries
from services.runtime.metrics import LANE_QUEUE, REVIEW_QUEUE
from streams import clock
from streams.metrics import REGISTRY
from streams.runtime import is_outage

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])
# the classic text format, which every Prometheus version scrapes
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    summary="Prometheus metrics of this API process and the gates' queue lengths",
)
async def metrics(request: Request) -> Response:
    # The queue gauges are left out while the database is away (never served stale); the
    # rest is served all the same. Before, the scrape answered 500 then, and Prometheus lost
    # every metric of the process (broker_up, API latency) when they were wanted most.
    try:
        await _read_queues(request.app.state.context)
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("/metrics without the queue lengths: the database is away (%r)", exc)
        LANE_QUEUE.clear()
        REVIEW_QUEUE.clear()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE)


async def _read_queues(ctx: Any) -> None:
    async with ctx.sessions() as session:
        for gate_id in sorted(ctx.gates):
            as_of = await queries.latest_event_time(session=session, gate_id=gate_id)
            view = await queries.queue_view(
                session=session, gate_id=gate_id, as_of=as_of or clock.wall_clock()
            )
            for lane in view.lanes:
                LANE_QUEUE.labels(gate_id, lane.lane_id).set(len(lane.trucks))
            REVIEW_QUEUE.labels(gate_id).set(view.needs_review)
