"""The webhook adapter: POST the call event as JSON to the firm's URL, with the call id in
the `Idempotency-Key` header. A 2xx is delivered; anything else (a refusal, a 5xx, a
timeout, no connection) is NotifierDown, retried later. A redirect is not followed (the
firm's URL was checked to be a public address, where it redirects to was not): it is
NotifierDown naming where it points, for the firm to set its URL there.

The URL's name is resolved here, at each send, and every address it resolves to must be
public (`public_address`): a name that resolves to the gate's own network (127.0.0.1, the
cloud's 169.254.169.254, a private range) is NotifierDown and nothing is sent. The POST goes
to the address checked (the URL's host replaced by it, `Host` and the TLS name kept), so a
name that resolves differently a moment later (DNS rebinding) cannot slip past the check."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

from services.notify.port import Notification, NotifierDown

Resolve = Callable[[str, int], Awaitable[list[str]]]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix (RFC 6052)


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an address literal: itself)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in found]


def public_address(text: str) -> bool:
    """Whether an address may be outside the gate's own network (the rule the firm's URL
    is held to when set, `services/api/firm_settings.public_host`); an IPv4 address carried
    in IPv6 (mapped `::ffff:127.0.0.1`, NAT64 `64:ff9b::7f00:1`, 6to4 `2002:7f00:1::`) is
    judged as the IPv4 one."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64:
            return public_address(str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)))
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None:
            return public_address(str(inner))
    return address.is_global and not address.is_multicast


class WebhookNotifier:
    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient,
        timeout_s: float = 5.0,
        resolve: Resolve = resolve_host,
    ) -> None:
        self.url, self.client, self.timeout_s = url, client, timeout_s
        self.resolve = resolve

    async def _pinned(self) -> tuple[httpx.URL, str]:
        """The URL with its host replaced by the public address it resolves to, and the
        name; NotifierDown if it does not resolve or any address it has is not public."""
        url = httpx.URL(self.url)
        host = url.raw_host.decode("ascii")  # an international name in punycode
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await self.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise NotifierDown(f"webhook {self.url}: {host} does not resolve: {exc}") from exc
        inside = [a for a in addresses if not public_address(a)]
        if inside or not addresses:
            raise NotifierDown(
                f"webhook {self.url}: {host} resolves to {', '.join(inside) or 'nothing'}, "
                "not a public address: nothing sent (the gate's own network is not a webhook)"
            )
        return url.copy_with(host=addresses[0]), host

    async def send(self, note: Notification) -> None:
        target, name = await self._pinned()
        netloc = httpx.URL(self.url).netloc.decode("ascii")
        try:
            reply = await self.client.post(
                target,
                json={"type": note.type, "call_id": note.call_id, "data": note.data},
                headers={"Idempotency-Key": note.call_id, "Host": netloc},
                timeout=self.timeout_s,
                follow_redirects=False,
                extensions={"sni_hostname": name},
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
