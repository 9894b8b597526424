"""The review queue: visits the machine could not decide, with the evidence a controller
needs to decide them (reads with their candidates, the manifests weighed and their scores).
Controllers' accounts and actions come with the control room (issue 6).

A queue: the truck waiting longest first (by its visit's first read; until 2026-12-05 the
newest decision came first, and the truck waiting longest was at the bottom, or past the
control room's 50)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.actions import HELD
from services.alerts.store import holding
from services.api.problems import ProblemError, gate_or_404
from services.db.audit import made_by
from services.db.control_tables import AuditRow
from services.db.tables import DecisionRow, ManifestRow, PlateReadRow, VisitRow
from streams.timestamps import in_range

router = APIRouter(prefix="/v1", tags=["review"])


CUSTOMS_STATUS = Field(
    default=None,
    description="the manifest's customs status now (`pending`: it cannot be placed yet); "
    "null when no such manifest is stored",
)


# every field is sent, `customs_status` as null when unknown: required in the document
_ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)


class WeighedManifest(BaseModel):
    model_config = _ALWAYS_SENT

    manifest_id: str
    plate: str
    score: float
    closest_read: str
    customs_status: str | None = CUSTOMS_STATUS


class ReviewRead(BaseModel):
    event_id: str
    camera_id: str
    captured_at: datetime
    plate_text: str
    confidence: float
    candidates: list[dict[str, Any]]
    image_ref: str | None


class HeldBy(BaseModel):
    """A risk alert that holds the truck until a controller releases it."""

    alert_id: str
    rule: str
    reason: str = Field(description="the alert's explanation")


class ControllerHold(BaseModel):
    """A controller's `hold` that took the truck out of its queue, until one releases it."""

    by: str = Field(description="the controller who held it")
    reason: str = Field(description="why, as kept in the audit log")
    audit_seq: int = Field(description="the hold's audit entry")


class ReviewItem(BaseModel):
    model_config = _ALWAYS_SENT

    visit_id: str
    decision_id: str
    gate_id: str
    plate: str
    match_outcome: str
    match_score: float
    manifest_id: str | None = Field(description="set when the reads were attributed to one")
    customs_status: str | None = CUSTOMS_STATUS
    reason: str
    decided_at: datetime
    arrived_at: datetime = Field(
        description="the visit's first read (the decision's time if none): it waits since"
    )
    candidates: list[WeighedManifest]
    reads: list[ReviewRead]
    held_by: list[HeldBy] = Field(
        default_factory=list,
        description="the risk alerts holding the truck (oldest first); empty when none does. "
        "`match_outcome` stays what the match found (a held truck's reads may match)",
    )
    held_by_controller: ControllerHold | None = Field(
        default=None,
        description="the controller who held the truck (the `hold` action) and why; null "
        "when none did",
    )


class ReviewPage(BaseModel):
    items: list[ReviewItem]
    next: str | None = Field(description="pass as `after` for the next page (newer arrivals)")


@router.get("/review", response_model=ReviewPage)
async def review_queue(
    request: Request,
    gate: Annotated[str | None, Query(description="gate id; default: this system's")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[
        str | None,
        Query(description="the `next` of the previous page, as it is (opaque); nothing else"),
    ] = None,
    before: Annotated[
        str | None,
        Query(
            description="the old name of `after` (deprecated): the `next` of the previous page, "
            "which now continues the oldest-first order"
        ),
    ] = None,
) -> ReviewPage:
    """Visits that need a person, the one waiting longest first."""
    ctx = request.app.state.context
    gate_id = gate or ctx.default_gate
    gate_or_404(ctx.gates, gate_id)
    if before is not None and after is not None and before != after:
        raise ProblemError(
            422,
            "invalid-cursor",
            "the old name of `after`; give one cursor, not two",
            field="before",
        )
    # a client written when the queue listed newest first passes each page's `next` as
    # `before`: the cursor is opaque, so it pages the queue as it is now (no loop, no repeat)
    cursor = None
    if after is not None or before is not None:
        cursor = _cursor(*(("after", after) if after is not None else ("before", before)))
    async with ctx.sessions() as session:
        return await review_page(session=session, gate_id=gate_id, limit=limit, after=cursor)


def _cursor_time(at: datetime) -> str:
    """A cursor's time in UTC ending in `Z`: nothing in it to escape in a URL (it gave
    `+00:00`, whose `+` reads as a space when the cursor is pasted into a query string)."""
    if at.tzinfo is None:
        return at.isoformat()
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cursor(name: str, text: str | None) -> tuple[datetime, str]:
    """A page's `next` (`<arrival, ISO 8601>|<decision id>`) read back, or a 422 problem
    naming the parameter (it was a bare 422 naming none, `after` even for `before`)."""
    at, _, decision_id = (text or "").partition("|")
    # a `+` of an offset pasted into a query string as it is reads as a space (ISO 8601 has
    # no space of its own here): a page's `next` before its time ended in `Z`
    at = at.replace(" ", "+")
    try:
        arrived = in_range(datetime.fromisoformat(at))
    except ValueError:
        arrived = None
    # without an offset it was a 500: the database stores aware datetimes only
    if arrived is None or arrived.tzinfo is None or not decision_id:
        raise ProblemError(
            422,
            "invalid-cursor",
            f"not a cursor: {(text or '')[:80]!r} (pass a page's `next` as it is)",
            field=name,
        )
    return arrived, decision_id


async def review_page(
    *, session: AsyncSession, gate_id: str, limit: int, after: tuple[datetime, str] | None
) -> ReviewPage:
    """The visits in review, the one that arrived first first (`after`: a page's `next`)."""
    arrived = func.coalesce(VisitRow.first_seen_at, DecisionRow.decided_at)
    query = (
        select(DecisionRow, arrived)
        .outerjoin(VisitRow, VisitRow.visit_id == DecisionRow.visit_id)
        .where(DecisionRow.gate_id == gate_id, DecisionRow.outcome == "needs_review")
    )
    if after is not None:
        query = query.where(tuple_(arrived, DecisionRow.decision_id) > after)
    rows = (
        await session.execute(query.order_by(arrived, DecisionRow.decision_id).limit(limit + 1))
    ).all()
    page, more = rows[:limit], len(rows) > limit
    reads = await _reads(session=session, visit_ids=[r.visit_id for r, _ in page])
    holds = await holding(session=session, visit_ids=[r.visit_id for r, _ in page])
    # a truck a controller held: its decision is the hold's (an alert's hold is not audited)
    by_controller = await made_by(
        session=session,
        gate_id=gate_id,
        action="hold",
        decisions={r.visit_id: r.decision_id for r, _ in page if r.reason.endswith(f"-> {HELD}")},
    )
    customs = await _customs(
        session=session,
        manifest_ids={
            m
            for row, _ in page
            for m in (row.manifest_id, *(c["manifest_id"] for c in row.match_candidates or ()))
            if m
        },
    )
    items = [
        ReviewItem(
            visit_id=row.visit_id,
            decision_id=row.decision_id,
            gate_id=row.gate_id,
            plate=row.plate,
            match_outcome=row.match_outcome,
            match_score=row.match_score,
            manifest_id=row.manifest_id,
            customs_status=customs.get(row.manifest_id or ""),
            reason=row.reason,
            decided_at=row.decided_at,
            arrived_at=arrived_at,
            candidates=[
                WeighedManifest.model_validate(
                    c | {"customs_status": customs.get(c["manifest_id"])}
                )
                for c in row.match_candidates or ()
            ],
            reads=reads.get(row.visit_id, []),
            held_by=[
                HeldBy(alert_id=a.alert_id, rule=a.rule, reason=a.explanation)
                for a in holds.get(row.visit_id, ())
            ],
            held_by_controller=_controller_hold(by_controller.get(row.visit_id)),
        )
        for row, arrived_at in page
    ]
    last = page[-1] if page and more else None
    following = None if last is None else f"{_cursor_time(last[1])}|{last[0].decision_id}"
    return ReviewPage(items=items, next=following)


def _controller_hold(entry: AuditRow | None) -> ControllerHold | None:
    if entry is None:
        return None
    return ControllerHold(by=entry.actor, reason=entry.reason, audit_seq=entry.seq)


async def _customs(*, session: AsyncSession, manifest_ids: set[str]) -> dict[str, str]:
    """Each stored manifest's customs status now: a controller cannot place a truck whose
    clearance is pending (`lanes.actions.place_with_manifest` refuses it), so the control
    room does not offer it."""
    if not manifest_ids:
        return {}
    rows = await session.execute(
        select(ManifestRow.manifest_id, ManifestRow.customs_status).where(
            ManifestRow.manifest_id.in_(sorted(manifest_ids))
        )
    )
    return {manifest_id: status for manifest_id, status in rows}


async def _reads(*, session: AsyncSession, visit_ids: list[str]) -> dict[str, list[ReviewRead]]:
    if not visit_ids:
        return {}
    rows = await session.scalars(
        select(PlateReadRow)
        .where(PlateReadRow.visit_id.in_(visit_ids))
        .order_by(PlateReadRow.captured_at, PlateReadRow.event_id)
    )
    found: dict[str, list[ReviewRead]] = {}
    for row in rows:
        payload = row.payload or {}
        found.setdefault(row.visit_id, []).append(
            ReviewRead(
                event_id=row.event_id,
                camera_id=row.camera_id,
                captured_at=row.captured_at,
                plate_text=row.plate_text,
                confidence=row.confidence,
                candidates=list(payload.get("candidates") or []),
                image_ref=payload.get("image_ref"),
            )
        )
    return found
