"""The calls' notifier as the worker runs it (issue 23): each call goes to the firm's
webhook (the URL in the firm's settings, `firm_settings.webhook_url`, set with
`PUT /v1/firm/settings`; the firm is the manifest's) and, when the driver's phone is
known (given with the booking, kept with its driver's page; else `phone_of`), as an SMS
through the gateway. Either refusing: the whole notification is retried
(each receiver gets the call id as its idempotency key and drops a repeat)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.driver_tables import DriverPageRow, FirmSettingsRow
from services.db.tables import ManifestRow
from services.notify.port import Notification, NotifierDown
from services.notify.sms import SmsGateway, SmsNotifier
from services.notify.webhook import Resolve, WebhookNotifier, resolve_host

DONE_KEPT = 10_000  # (call, channel) pairs remembered as sent


class CallRouter:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        sms: SmsGateway | None = None,
        phone_of: Callable[[str], str | None] = lambda _visit_id: None,
        resolve: Resolve = resolve_host,  # the webhooks' names (a test's stands in)
    ) -> None:
        self.sessions, self.client, self.resolve = sessions, client, resolve
        self.gateway, self.phone_of = sms, phone_of
        self._done: dict[tuple[str, str], None] = {}  # (call id, channel) sent, oldest first

    async def phone(self, visit_id: str) -> str | None:
        """The driver's mobile: the one given with the booking of the page that follows this
        truck, else `phone_of` (the demo's stand-in).

        No page following the truck yet, and no stand-in: the SMS is tried again
        (`NotifierDown`). The call-forward worker published a call as it decided it, before
        the transaction that links the truck's page to its visit committed: a notifier
        quick enough took the call before, found no mobile and marked the call delivered,
        so a booked driver called the moment they entered the area was never texted (found
        2026-12-06). Its calls now leave through an outbox, after that commit; the retry
        stays for a call no page follows for another reason. Every truck the policy calls
        has a page (a booking's, or a walk-in's made as it enters the area)."""
        async with self.sessions() as session:
            phones = (
                await session.scalars(
                    select(DriverPageRow.phone).where(DriverPageRow.visit_id == visit_id)
                )
            ).all()
        given = next((p for p in phones if p), None)
        fallback = given or self.phone_of(visit_id)
        if fallback is None and not phones:
            raise NotifierDown(
                f"no driver's page follows {visit_id} yet (the batch that called it is not "
                "committed): the SMS is tried again"
            )
        return fallback

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
        """Each channel is tried, whatever the other does: a firm's webhook that fails does
        not keep the driver's SMS from going (found by a stranger's try: it did). A channel
        that took the call is not sent it again when the call is retried for the other: the
        refusal names the channels that took it (`NotifierDown.sent`), which the call keeps
        (`call_notifications.sent`) and its retry brings back (`note.sent`), so a notifier
        restarted in between does not send them again either (before, only this process
        remembered them, `_done`: the driver got the SMS twice)."""
        failed: NotifierDown | None = None
        sent = set(note.sent)
        for channel in ("webhook", "sms"):
            key = (note.call_id, channel)
            if key in self._done or channel in note.sent:
                sent.add(channel)
                continue
            if channel in note.held:  # an earlier call of the truck goes there first
                failed = failed or NotifierDown(
                    f"{channel}: held until an earlier call of {note.visit_id} is taken there"
                )
                continue
            try:
                await self._send(channel, note)
            except NotifierDown as exc:
                failed = failed or exc
                continue
            sent.add(channel)
            self._done[key] = None
            while len(self._done) > DONE_KEPT:
                self._done.pop(next(iter(self._done)))
        if failed is not None:
            raise NotifierDown(str(failed), sent=frozenset(sent)) from failed

    async def _send(self, channel: str, note: Notification) -> None:
        if channel == "webhook":
            url = await self.webhook_of(note.data.get("manifest_id"))
            if url:
                await WebhookNotifier(url, client=self.client, resolve=self.resolve).send(note)
        elif self.gateway is not None:
            phone = await self.phone(note.visit_id)
            await SmsNotifier(self.gateway, lambda _visit_id: phone).send(note)
