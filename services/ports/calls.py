"""The call notifier's ports. The notifier: send one call's notification, or raise
NotifierDown to be retried; every adapter (services/notify/) passes the call id on as the
idempotency key, so a receiver that saw a call (a retry after a lost reply) can drop the
repeat. The calls kept until delivered (`CallNoticeStore`: services/adapters/
sql_call_notices.py, memory_call_notices.py). Moved from services/notify/port.py, which
re-exports the notifier's names."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from lanes.policy.hours import local_hhmm
from lanes.values import zone_name

# the channels a call goes to (services/notify/routing.py): the firm's webhook, the SMS
CHANNELS = frozenset({"webhook", "sms"})
# the next attempt of a call given up: never (the row keeps its attempts and last error)
GIVEN_UP = datetime(9999, 12, 31, tzinfo=UTC)


class NotifierDown(Exception):
    """The notifier could not take the notification now (to be retried with backoff);
    `sent`: the channels that took it all the same (not to be sent it again)."""

    def __init__(self, *args: object, sent: frozenset[str] = frozenset()) -> None:
        super().__init__(*args)
        self.sent = sent


@dataclass(frozen=True, slots=True)
class Notification:
    call_id: str  # the idempotency key
    visit_id: str
    gate_id: str
    type: str  # truck.called, truck.recalled, truck.place_lost
    text: str  # for a person (an SMS)
    data: dict[str, Any]  # the call event (CallEventV1), for a system
    sent: frozenset[str] = frozenset()  # channels that took it on an earlier attempt
    # channels not to send it to now: an earlier call of its truck has not been taken
    # there yet (it goes first, so that a firm never gets the recall before the call)
    held: frozenset[str] = frozenset()


class Notifier(Protocol):
    async def send(self, note: Notification) -> None:
        """Deliver `note`; raise NotifierDown when it was not taken."""
        ...


_TEXTS = {
    "en": {
        "at": "{time} ({zone})",
        "lost": "borderflow: you lost your place in the waiting area: {reason}",
        "cancelled": "borderflow: your booking was cancelled: do not drive to the gate for it; "
        "ask your firm.",
        "lost_by": "borderflow: you were called twice and were not at the gate by {deadline}: "
        "you lost your place in the waiting area.",
        "go": "borderflow: Go to the gate now, {place}. Be there by {deadline}.",
        "again": "borderflow: Reminder: go to the gate now, {place}. Be there by {deadline}. "
        "Last call: after that you lose your place.",
        "lane": "{lane}",
        "slot": "carrier slot {slot}",
        "code": " Your page: code {code} at /d",
        "link": " Your page: {link}",
    },
    "vi": {
        "at": "{time} ({zone})",
        "lost": "borderflow: bạn đã mất vị trí trong bãi chờ: {reason}",
        "cancelled": "borderflow: lịch đặt của bạn đã bị hủy: đừng đến cửa khẩu theo lịch này; "
        "hãy hỏi doanh nghiệp của bạn.",
        "lost_by": "borderflow: bạn đã được gọi hai lần nhưng không có mặt tại cửa khẩu trước "
        "{deadline}: bạn đã mất vị trí trong bãi chờ.",
        "go": "borderflow: Hãy đến cửa khẩu ngay, {place}. Có mặt trước {deadline}.",
        "again": "borderflow: Nhắc lại: hãy đến cửa khẩu ngay, {place}. Có mặt trước {deadline}. "
        "Lần gọi cuối: quá giờ đó bạn mất vị trí.",
        "lane": "làn {lane}",
        "slot": "lượt xe tự hành {slot}",
        # with the page's code or link: shorter, so that one lane's call with its code is
        # one SMS segment (70 characters in UCS-2; today's words take 78 alone)
        "go_page": "borderflow: Đến {place} trước {deadline}.",
        "code": " Mã {code} tại /d",
        "link": " {link}",
    },
    "zh": {
        "at": "{time}（{zone}）",
        "lost": "borderflow：您已失去等候区中的位置：{reason}",
        "cancelled": "borderflow：您的预约已取消：请勿为此预约前往口岸；请联系您的公司。",
        "lost_by": "borderflow：您已被叫号两次，但未在{deadline}前到达口岸："
        "您已失去等候区中的位置。",
        "go": "borderflow：请立即前往口岸，{place}。请在{deadline}前到达。",
        "again": "borderflow：提醒：请立即前往口岸，{place}。请在{deadline}前到达。"
        "最后一次叫号：逾时将失去排队位置。",
        "lane": "{lane}车道",
        "slot": "无人驾驶集卡班次{slot}",
        "code": "查看页面：/d 输入码{code}",
        "link": "页面：{link}",
    },
}


def text_of(
    data: dict[str, Any],
    language: str | None = None,
    utc_offset: timedelta | None = None,
    *,
    code: str | None = None,
    base_url: str | None = None,
) -> str:
    """A short message for the driver, in `language` (vi, zh, en) when known, else English;
    the deadline as the gate's local HH:MM and its zone (`10:30 (UTC+07:00)`: a Chinese
    driver's phone at Huu Nghi is an hour ahead) when its `utc_offset` is given. A lost place is
    told by the deadline it missed (an event without one: the policy's reason, in English);
    a place withdrawn because the booking was cancelled, as that. A call ends with what opens
    the truck's page when its `code` is given: the link `<base_url>/d/c/<code>` when the
    drivers' pages' public base URL is known, else the code and the path `/d`. A recall and
    a lost place do not repeat it (the call's SMS has it; it would cost each a segment)."""
    words = _TEXTS.get(language or "en", _TEXTS["en"])
    deadline = data.get("deadline")
    if utc_offset is not None and isinstance(deadline, str):
        with contextlib.suppress(ValueError):
            deadline = words["at"].format(
                time=local_hhmm(datetime.fromisoformat(deadline), utc_offset),
                zone=zone_name(utc_offset),
            )
    kind = data.get("type")
    if kind == "truck.place_lost":
        if data.get("withdrawn"):
            return words["cancelled"]
        if deadline:
            return words["lost_by"].format(deadline=deadline)
        return words["lost"].format(reason=data.get("reason", ""))
    lane, slot = data.get("lane_id"), data.get("carrier_slot")
    place = words["lane"].format(lane=lane) if lane else words["slot"].format(slot=slot)
    if kind == "truck.recalled" or not code:
        template = words["again"] if kind == "truck.recalled" else words["go"]
        return template.format(place=place, deadline=deadline)
    # a lane's call in the shorter words where a language has them (a carrier slot's: as before)
    go = words.get("go_page", words["go"]) if lane else words["go"]
    text = go.format(place=place, deadline=deadline)
    if base_url:
        return text + words["link"].format(link=f"{base_url}/d/c/{code}")
    return text + words["code"].format(code=code)


@dataclass(frozen=True, slots=True)
class CallNotice:
    """A call event to notify (`payload`: its wire form, CallEventV1)."""

    call_id: str
    visit_id: str
    gate_id: str
    type: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimedCall:
    """A due call claimed for one delivery attempt: its attempts so far, its event, the
    language the driver last read its page in (None: not known) and its page's code."""

    call_id: str
    attempts: int
    payload: dict[str, Any]
    language: str | None
    kept_at: datetime | None = None  # when the call was kept (wall clock)
    sent: frozenset[str] = frozenset()  # the channels that took it on an earlier attempt
    code: str | None = None  # the short code of the page that follows this truck (None: none)
    # the channels an earlier call of the same truck, kept before it and neither delivered
    # nor given up, has not taken yet (`CHANNELS` less its `sent`), and that call's next
    # attempt (the earliest of them): this call waits for it on those channels
    held: frozenset[str] = frozenset()
    held_until: datetime | None = None


class CallNoticeStore(Protocol):
    """The calls to notify, one row a call id, inside one transaction."""

    async def add(self, notices: Sequence[CallNotice], *, now: datetime) -> None:
        """Keep each call once (a call id already kept is left as it is), due at `now`."""

    async def due(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        """The calls undelivered and due at `now`, as (call id, visit id): those never
        tried first (a fresh call is not queued behind the retries of a receiver that is
        down), then the fewest attempts, then the oldest."""

    async def claim(self, call_id: str, *, now: datetime, until: datetime) -> ClaimedCall | None:
        """Claim the call while it is undelivered and due at `now`, its next attempt pushed
        to `until` (one conditional update: two loops never claim one call); None: another
        loop has it, or it was delivered."""

    async def mark(
        self,
        call_id: str,
        *,
        attempts: int,
        delivered_at: datetime | None,
        next_attempt_at: datetime,
        error: str | None,
        sent: frozenset[str] = frozenset(),
    ) -> None: ...


# Opens one transaction on the calls to notify: committed when the block ends normally.
CallNoticeStores = Callable[[], AbstractAsyncContextManager[CallNoticeStore]]
