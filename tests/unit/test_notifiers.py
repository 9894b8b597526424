"""The notifier adapters (issue 23): the webhook posts the call with the call id as the
idempotency key and reports a refusal or no connection as NotifierDown; the SMS adapter
texts the driver's phone through the gateway interface; the call event's wire format."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from lanes.policy.callforward import CallKind, PlaceLost, TruckCalled
from services.notify.port import Notification, NotifierDown, text_of
from services.notify.sms import STAND_IN, FakeSmsSink, LoggingSmsSink, SmsNotifier
from services.notify.webhook import WebhookNotifier
from streams.calls import call_to_wire, decode_call, encode_call

T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
CALL = TruckCalled(
    call_id="v1/call-1", visit_id="v1", gate_id="huu-nghi", area_id="hn-exp-wait",
    kind=CallKind.CALL, called_at=T0, due_at=T0 + timedelta(minutes=5),
    deadline=T0 + timedelta(minutes=15), lane_id="HN-E3", carrier_slot=None,
    expected_start_at=T0 + timedelta(minutes=5), reason="called", manifest_id="m1",
)  # fmt: skip
NOTE = Notification("v1/call-1", "v1", "huu-nghi", "truck.called", "Go", {"lane_id": "HN-E3"})
FIRM_URL = "https://firm.example/calls"
FIRM_ADDRESS = "93.184.215.14"  # a public address firm.example stands for here


async def FIRM_DNS(host: str, port: int) -> list[str]:
    assert (host, port) == ("firm.example", 443)
    return [FIRM_ADDRESS]


async def test_the_webhook_posts_the_call_with_its_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def firm(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(firm)) as client:
        await WebhookNotifier(FIRM_URL, client=client, resolve=FIRM_DNS).send(NOTE)
    assert seen[0].headers["Idempotency-Key"] == "v1/call-1"
    # sent to the address checked, under the firm's name (Host, and the TLS name)
    assert str(seen[0].url) == f"https://{FIRM_ADDRESS}/calls"
    assert seen[0].headers["Host"] == "firm.example"
    assert seen[0].extensions["sni_hostname"] == "firm.example"
    assert b'"lane_id":"HN-E3"' in seen[0].content


@pytest.mark.parametrize("status", [500, 503, 429, 400])
async def test_a_refusal_is_notifier_down(status: int) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(NotifierDown, match=f"HTTP {status}"):
            await WebhookNotifier(FIRM_URL, client=client, resolve=FIRM_DNS).send(NOTE)


async def test_no_connection_is_notifier_down() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(NotifierDown, match="ConnectError"):
            await WebhookNotifier(FIRM_URL, client=client, resolve=FIRM_DNS).send(NOTE)


async def test_the_sms_adapter_texts_the_driver_or_reports_the_gateway_down() -> None:
    sink = FakeSmsSink(down=True)
    notifier = SmsNotifier(sink, phone_of=lambda visit_id: "+84-900" if visit_id == "v1" else None)
    with pytest.raises(NotifierDown):
        await notifier.send(NOTE)
    sink.down = False
    await notifier.send(NOTE)
    await notifier.send(Notification("v2/call-1", "v2", "huu-nghi", "truck.called", "Go", {}))
    assert [(s.to, s.key) for s in sink.sent] == [("+84-900", "v1/call-1")]


async def test_the_demo_sink_shows_a_booked_phone_s_sms_not_every_stand_in(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found following the README: every simulated truck of `make demo` has a stand-in
    number, and each of its texts was logged at INFO, burying the demo's progress lines and
    the one SMS a person trying the demo looks for (their own booking's phone)."""
    sink = LoggingSmsSink()
    with caplog.at_level(logging.INFO, logger="services.notify.sms"):
        await sink.send_sms(to=f"{STAND_IN}visit-7", text="Go to lane 3", key="visit-7/call-1")
        await sink.send_sms(to="+84912345678", text="Go to lane 4", key="b-1/call-1")
    assert [r.getMessage() for r in caplog.records] == ["fake SMS to +84912345678: Go to lane 4"]
    assert len(sink.sent) == 2  # both kept


def test_a_call_and_a_lost_place_round_trip_on_the_wire() -> None:
    wire = call_to_wire(CALL)
    value, headers = encode_call(wire)
    assert decode_call(value) == wire and ("event-type", b"truck.called") in headers
    assert "Go to the gate now, HN-E3" in text_of(wire.model_dump(mode="json"))
    lost = call_to_wire(PlaceLost("v1", "huu-nghi", "hn-exp-wait", T0, "v1/call-2", "no show"))
    assert lost.call_id == "v1/call-2/lost" and lost.type == "truck.place_lost"
    assert decode_call(encode_call(lost)[0]) == lost


def test_a_lost_place_is_told_in_the_drivers_language_by_the_deadline_missed() -> None:
    """The policy's reason is English; the SMS says the missed deadline in the driver's
    words (the gate's local time). An event without the deadline keeps the reason."""
    missed = T0 + timedelta(minutes=30)
    lost = PlaceLost("v1", "huu-nghi", "hn-exp-wait", T0, "v1/call-2", "no show", missed)
    data = call_to_wire(lost).model_dump(mode="json")
    local = f"{(missed + timedelta(hours=7)):%H:%M}"
    texts = {lang: text_of(data, lang, timedelta(hours=7)) for lang in ("vi", "zh", "en")}
    assert f"không có mặt tại cửa khẩu trước {local} (UTC+07:00)" in texts["vi"]
    assert f"未在{local}（UTC+07:00）前到达口岸" in texts["zh"]
    assert f"not at the gate by {local} (UTC+07:00)" in texts["en"]
    assert all("no show" not in text for text in texts.values())
    old = call_to_wire(PlaceLost("v1", "huu-nghi", "hn-exp-wait", T0, "v1/call-2", "no show"))
    assert text_of(old.model_dump(mode="json"), "vi").endswith("no show")


def test_a_place_withdrawn_for_a_cancelled_booking_is_told_as_that_in_the_drivers_language() -> (
    None
):
    """Before, a queued truck whose booking the firm cancelled was texted "you lost your
    place" followed by the policy's English reason, whatever the driver's language."""
    lost = PlaceLost(
        "v1", "huu-nghi", "hn-exp-wait", T0, "v1/call-1", "booking cancelled", withdrawn=True
    )
    wire = call_to_wire(lost)
    assert wire.withdrawn and decode_call(encode_call(wire)[0]) == wire
    data = wire.model_dump(mode="json")
    texts = {lang: text_of(data, lang, timedelta(hours=7)) for lang in ("vi", "zh", "en")}
    assert "lịch đặt của bạn đã bị hủy" in texts["vi"]
    assert "您的预约已取消" in texts["zh"]
    assert "your booking was cancelled" in texts["en"]
    assert all(
        "booking cancelled" not in text and "mất vị trí" not in text for text in texts.values()
    )


def test_a_recall_is_texted_as_the_last_call() -> None:
    """Before, the recall's SMS was the call's with "Reminder": nothing said that missing
    it loses the place."""
    recall = replace(CALL, call_id="v1/call-2", kind=CallKind.RECALL)
    data = call_to_wire(recall).model_dump(mode="json")
    texts = {lang: text_of(data, lang, timedelta(hours=7)) for lang in ("vi", "zh", "en")}
    assert texts["en"].endswith("Last call: after that you lose your place.")
    assert "Lần gọi cuối" in texts["vi"] and "最后一次叫号" in texts["zh"]
    first = text_of(call_to_wire(CALL).model_dump(mode="json"), "en", timedelta(hours=7))
    assert "Last call" not in first


async def test_a_redirect_is_not_followed_and_says_where_it_points() -> None:
    """The firm's URL is checked to be public when set; where it redirects to is not (a
    redirect to the gate's own network would be followed unseen). Before, a 308 was
    logged as a bare "HTTP 308" (a client made to follow redirects would have followed
    it); now it is never followed, and the log names where it points."""
    seen: list[httpx.Request] = []

    def moved(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(308, headers={"Location": "http://10.0.0.5/calls"})

    transport = httpx.MockTransport(moved)
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
        with pytest.raises(NotifierDown, match=r"308 to http://10\.0\.0\.5/calls: redirects"):
            await WebhookNotifier(FIRM_URL, client=client, resolve=FIRM_DNS).send(NOTE)
    assert [(str(r.url), r.headers["Host"]) for r in seen] == [
        (f"https://{FIRM_ADDRESS}/calls", "firm.example")
    ]


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["169.254.169.254"],  # a cloud's metadata service
        ["10.0.0.5"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["fe80::1%eth0"],
        ["64:ff9b::7f00:1"],  # NAT64 of 127.0.0.1
        ["2002:a9fe:a9fe::1"],  # 6to4 of 169.254.169.254
        ["93.184.215.14", "192.168.1.10"],  # one public, one inside: refused
    ],
)
async def test_a_name_that_resolves_inside_the_gate_is_not_posted_to(addresses: list[str]) -> None:
    """The firm's URL is checked when set only if it is an address literal: a name (one's
    own domain pointed at 127.0.0.1, 169.254.169.254, the database's host) was taken and
    resolved at each send, and the notifier POSTed the call there (found by a security
    review: a name resolving to 127.0.0.1 got the POST on the gate's own port). Now every
    address the name resolves to must be public, or nothing is sent."""
    seen: list[httpx.Request] = []

    def anyone(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async def dns(host: str, port: int) -> list[str]:
        return addresses

    notifier_url = "http://inside.firm.example:5432/calls"
    async with httpx.AsyncClient(transport=httpx.MockTransport(anyone)) as client:
        notifier = WebhookNotifier(notifier_url, client=client, resolve=dns)
        with pytest.raises(NotifierDown, match="not a public address: nothing sent"):
            await notifier.send(NOTE)
    assert seen == []


async def test_a_name_that_does_not_resolve_is_notifier_down() -> None:
    async def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as c:
        with pytest.raises(NotifierDown, match="does not resolve"):
            await WebhookNotifier(FIRM_URL, client=c, resolve=nowhere).send(NOTE)


async def test_the_address_checked_is_the_one_posted_to() -> None:
    """DNS rebinding: a name asked twice may answer a public address, then 127.0.0.1. The
    name is resolved once per send and the POST goes to that address."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    seen: list[httpx.Request] = []

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    def firm(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(firm)) as client:
        await WebhookNotifier(FIRM_URL, client=client, resolve=rebinding).send(NOTE)
    assert [r.url.host for r in seen] == ["93.184.215.14"]
