"""`/v1/firm/settings`: a firm's call settings (issue 23): the webhook its calls forward
from the waiting area are POSTed to (the call event as JSON, `Idempotency-Key` = call id,
retried until a 2xx). Bearer API key; a firm sees and sets only its own."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints

from services.api.auth import FirmDep, SessionsDep
from services.db.driver_tables import FirmSettingsRow
from streams import clock

router = APIRouter(prefix="/v1/firm", tags=["firm"])


def public_host(url: HttpUrl) -> HttpUrl:
    """`url` unchanged if its host may be outside the gate's own network; ValueError for
    `localhost` and for an address literal that is loopback, private, link-local, reserved,
    multicast or unspecified: the server POSTs there, so a firm must not point it at the
    gate's own services (found by a stranger's try: http://127.0.0.1 was taken). A name
    that resolves to such an address is not caught here: the notifier checks every address
    it resolves to at each send (`services/notify/webhook.py`)."""
    host = (url.host or "").strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        raise ValueError("must not point at this server (localhost)")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name
    if not address.is_global or address.is_multicast:
        raise ValueError(f"must be a public address, not {address}")
    return url


MOST_URL_CHARS = 2000


def stored_length(url: HttpUrl) -> HttpUrl:
    """`url` if its normalised form (what is stored and answered) is at most 2,000
    characters: the limit on the text sent is not enough, as normalising can lengthen it (a
    path added, an international name in punycode). Found by a schema-driven client: a
    1,999-character URL was taken, stored as 2,001, and every later GET answered 500."""
    if len(text := str(url)) > MOST_URL_CHARS:
        raise ValueError(
            f"is {len(text)} characters once normalised (scheme and host in lower case, "
            f"international names in punycode, a '/' path): at most {MOST_URL_CHARS}"
        )
    return url


WebhookUrl = Annotated[
    HttpUrl,
    UrlConstraints(max_length=MOST_URL_CHARS),
    AfterValidator(stored_length),
    AfterValidator(public_host),
]


class FirmSettings(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"webhook_url": "https://tms.example.com/borderflow/calls"}]
        },
    )

    webhook_url: WebhookUrl | None = Field(
        default=None,
        description="http(s) URL your calls are POSTed to, on a public host (not localhost "
        "nor a private, loopback or link-local address), at most 2,000 characters as sent "
        "and once normalised (scheme and host lower-cased, international names in punycode, "
        "'/' for an empty path); null: none",
    )


class FirmSettingsView(BaseModel):
    """The settings as stored: a URL taken under older rules is answered as it is, for the
    firm to replace it, not refused on the way out (that was a 500 on every GET)."""

    # always sent (null: none): required in the document, as a client reads it
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    webhook_url: str | None = Field(
        default=None, description="the http(s) URL your calls are POSTed to; null: none"
    )


@router.get("/settings", response_model=FirmSettingsView, summary="Your firm's call settings")
async def read_settings(firm: FirmDep, sessions: SessionsDep) -> FirmSettingsView:
    async with sessions() as session:
        row = await session.get(FirmSettingsRow, firm)
    return FirmSettingsView(webhook_url=row.webhook_url if row else None)


@router.put("/settings", response_model=FirmSettingsView, summary="Set your firm's call settings")
async def write_settings(
    body: FirmSettings, firm: FirmDep, sessions: SessionsDep
) -> FirmSettingsView:
    url = None if body.webhook_url is None else str(body.webhook_url)
    async with sessions() as session, session.begin():
        row = await session.get(FirmSettingsRow, firm)
        if row is None:
            session.add(
                FirmSettingsRow(firm_id=firm, webhook_url=url, updated_at=clock.wall_clock())
            )
        else:
            row.webhook_url, row.updated_at = url, clock.wall_clock()
    return FirmSettingsView(webhook_url=url)
