"""The webhook adapter: POST the call event as JSON to the firm's URL, with the call id in
the `Idempotency-Key` header. A 2xx is delivered; anything else (a refusal, a 5xx, a
timeout, no connection) is NotifierDown, retried later. A redirect is not followed (the
firm's URL was checked to be a public address, where it redirects to was not): it is
NotifierDown naming where it points, for the firm to set its URL there."""

from __future__ import annotations

import httpx

from services.notify.port import Notification, NotifierDown


class WebhookNotifier:
    def __init__(self, url: str, *, client: httpx.AsyncClient, timeout_s: float = 5.0) -> None:
        self.url, self.client, self.timeout_s = url, client, timeout_s

    async def send(self, note: Notification) -> None:
        try:
            reply = await self.client.post(
                self.url,
                json={"type": note.type, "call_id": note.call_id, "data": note.data},
                headers={"Idempotency-Key": note.call_id},
                timeout=self.timeout_s,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise NotifierDown(f"webhook {self.url}: {type(exc).__name__}: {exc}") from exc
        if reply.is_redirect:
            raise NotifierDown(
                f"webhook {self.url}: HTTP {reply.status_code} to "
                f"{reply.headers.get('location', '(no Location)')}: redirects are not followed; "
                "the firm's webhook_url must be the address that takes the call"
            )
        if not reply.is_success:
            raise NotifierDown(f"webhook {self.url}: HTTP {reply.status_code}")
