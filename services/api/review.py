"""The review queue: visits the machine could not decide, with the evidence a controller
needs to decide them (reads with their candidates, the manifests weighed and their scores).
Controllers' accounts and actions come with the control room (issue 6)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.problems import gate_or_404
from services.db.tables import DecisionRow, PlateReadRow

router = APIRouter(prefix="/v1", tags=["review"])


class WeighedManifest(BaseModel):
    manifest_id: str
    plate: str
    score: float
    closest_read: str


class ReviewRead(BaseModel):
    event_id: str
    camera_id: str
    captured_at: datetime
    plate_text: str
    confidence: float
    candidates: list[dict[str, Any]]
    image_ref: str | None


class ReviewItem(BaseModel):
    visit_id: str
    decision_id: str
    gate_id: str
    plate: str
    match_outcome: str
    match_score: float
    manifest_id: str | None = Field(description="set when the reads were attributed to one")
    reason: str
    decided_at: datetime
    candidates: list[WeighedManifest]
    reads: list[ReviewRead]


class ReviewPage(BaseModel):
    items: list[ReviewItem]
    next: str | None = Field(description="pass as `before` for the next (older) page")


@router.get("/review", response_model=ReviewPage)
async def review_queue(
    request: Request,
    gate: Annotated[str | None, Query(description="gate id; default: this system's")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(description="the `next` of the previous page")] = None,
) -> ReviewPage:
    """Visits that need a person, newest first."""
    ctx = request.app.state.context
    gate_id = gate or ctx.default_gate
    gate_or_404(ctx.gates, gate_id)
    async with ctx.sessions() as session:
        return await review_page(session=session, gate_id=gate_id, limit=limit, before=before)


async def review_page(
    *, session: AsyncSession, gate_id: str, limit: int, before: str | None
) -> ReviewPage:
    query = select(DecisionRow).where(
        DecisionRow.gate_id == gate_id, DecisionRow.outcome == "needs_review"
    )
    if before is not None:
        at, _, decision_id = before.partition("|")
        try:
            cursor = datetime.fromisoformat(at)
        except ValueError:
            raise HTTPException(
                status_code=422, detail=f"before: not a cursor: {before!r}"
            ) from None
        query = query.where(
            tuple_(DecisionRow.decided_at, DecisionRow.decision_id) < (cursor, decision_id)
        )
    rows = (
        await session.scalars(
            query.order_by(DecisionRow.decided_at.desc(), DecisionRow.decision_id.desc()).limit(
                limit + 1
            )
        )
    ).all()
    page, more = rows[:limit], len(rows) > limit
    reads = await _reads(session=session, visit_ids=[r.visit_id for r in page])
    items = [
        ReviewItem(
            visit_id=row.visit_id,
            decision_id=row.decision_id,
            gate_id=row.gate_id,
            plate=row.plate,
            match_outcome=row.match_outcome,
            match_score=row.match_score,
            manifest_id=row.manifest_id,
            reason=row.reason,
            decided_at=row.decided_at,
            candidates=[WeighedManifest.model_validate(c) for c in row.match_candidates or ()],
            reads=reads.get(row.visit_id, []),
        )
        for row in page
    ]
    last = page[-1] if page and more else None
    following = None if last is None else f"{last.decided_at.isoformat()}|{last.decision_id}"
    return ReviewPage(items=items, next=following)


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
