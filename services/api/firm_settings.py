"""`/v1/firm/settings`: a firm's call settings (issue 23): the webhook its calls forward
from the waiting area are POSTed to (the call event as JSON, `Idempotency-Key` = call id,
retried until a 2xx). Bearer API key; a firm sees and sets only its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints

from services.api.auth import FirmDep, SessionsDep
from services.db.driver_tables import FirmSettingsRow
from streams import clock

router = APIRouter(prefix="/v1/firm", tags=["firm"])

WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2000)]


class FirmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: WebhookUrl | None = Field(
        default=None,
        description="http(s) URL your calls are POSTed to; null: none",
    )


@router.get("/settings", response_model=FirmSettings, summary="Your firm's call settings")
async def read_settings(firm: FirmDep, sessions: SessionsDep) -> FirmSettings:
    async with sessions() as session:
        row = await session.get(FirmSettingsRow, firm)
    return FirmSettings.model_validate({"webhook_url": row.webhook_url if row else None})


@router.put("/settings", response_model=FirmSettings, summary="Set your firm's call settings")
async def write_settings(body: FirmSettings, firm: FirmDep, sessions: SessionsDep) -> FirmSettings:
    url = None if body.webhook_url is None else str(body.webhook_url)
    async with sessions() as session, session.begin():
        row = await session.get(FirmSettingsRow, firm)
        if row is None:
            session.add(
                FirmSettingsRow(firm_id=firm, webhook_url=url, updated_at=clock.wall_clock())
            )
        else:
            row.webhook_url, row.updated_at = url, clock.wall_clock()
    return body
