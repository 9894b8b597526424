"""The calls' notifier as the worker runs it (issue 23): each call goes to the firm's
webhook (the URL in the firm's settings, `firm_settings.webhook_url`, set with
`PUT /v1/firm/settings`; the firm is the manifest's) and, when the driver's phone is
known, as an SMS through the gateway. Either refusing: the whole notification is retried
(each receiver gets the call id as its idempotency key and drops a repeat)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.driver_tables import FirmSettingsRow
from services.db.tables import ManifestRow
from services.notify.port import Notification
from services.notify.sms import SmsGateway, SmsNotifier
from services.notify.webhook import WebhookNotifier


class CallRouter:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        sms: SmsGateway | None = None,
        phone_of: Callable[[str], str | None] = lambda _visit_id: None,
    ) -> None:
        self.sessions, self.client = sessions, client
        self.sms = None if sms is None else SmsNotifier(sms, phone_of)

    async def webhook_of(self, manifest_id: str | None) -> str | None:
        if not manifest_id:
            return None
        async with self.sessions() as session:
            url: str | None = await session.scalar(
                select(FirmSettingsRow.webhook_url)
                .join(ManifestRow, ManifestRow.firm_id == FirmSettingsRow.firm_id)
                .where(ManifestRow.manifest_id == manifest_id)
            )
        return url

    async def send(self, note: Notification) -> None:
        url = await self.webhook_of(note.data.get("manifest_id"))
        if url:
            await WebhookNotifier(url, client=self.client).send(note)
        if self.sms is not None:
            await self.sms.send(note)
