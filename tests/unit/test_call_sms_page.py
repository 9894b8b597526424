"""The call's SMS tells the driver how to open their page (issue 23): the truck's own short
code and, when the drivers' pages' public base URL is set (BORDERFLOW_PUBLIC_URL), the link
`<base>/d/c/<code>`; else the code and the path `/d`. Kept to one SMS segment where it can:
Vietnamese and Chinese go as UCS-2 (70 characters a segment, 67 each when split), English
as GSM-7 (160, 153 split). Before, the SMS said where to go and by when, and nothing of the
page that shows the way to the lane, a recall or a lost place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanes.policy.callforward import CallKind, PlaceLost, TruckCalled
from services.adapters.memory_call_notices import MemoryCallNotices
from services.cli.main import main as cli_main
from services.ports.calls import CallNotice, Notification, text_of
from services.service_layer.call_notices import CallNotices, KeepCalls
from streams.calls import call_to_wire

T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
HN = timedelta(hours=7)
CODE, OTHER = "BCFG2345", "XZ987654"
BASE = "https://border.example"
LANGUAGES = ("vi", "zh", "en")
# the longest lane id at Huu Nghi (HN-E10, HN-I12: 6 characters)
CALL = TruckCalled(
    call_id="v1/call-1", visit_id="v1", gate_id="huu-nghi", area_id="hn-exp-wait",
    kind=CallKind.CALL, called_at=T0, due_at=T0 + timedelta(minutes=5),
    deadline=T0 + timedelta(minutes=15), lane_id="HN-E10", carrier_slot=None,
    expected_start_at=T0 + timedelta(minutes=5), reason="called", manifest_id="m1",
)  # fmt: skip
# GSM 03.38's basic set; its extension (^{}\[~]| and the euro) counts two
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_TWO = set("^{}\\[~]|€")


def segments(text: str) -> int:
    """How many SMS a text is sent as: GSM-7 when every character is in it, else UCS-2."""
    if all(c in GSM7 or c in GSM7_TWO for c in text):
        size = sum(2 if c in GSM7_TWO else 1 for c in text)
        return 1 if size <= 160 else -(-size // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)


def data_of(event: TruckCalled | PlaceLost = CALL) -> dict[str, Any]:
    return call_to_wire(event).model_dump(mode="json")


def test_a_call_gives_the_code_and_the_path_without_a_base_url() -> None:
    texts = {lang: text_of(data_of(), lang, HN, code=CODE) for lang in LANGUAGES}
    assert texts == {
        "vi": "borderflow: Đến làn HN-E10 trước 10:15 (UTC+07:00). Mã BCFG2345 tại /d",
        "zh": "borderflow：请立即前往口岸，HN-E10车道。请在10:15（UTC+07:00）前到达。"
        "查看页面：/d 输入码BCFG2345",
        "en": "borderflow: Go to the gate now, HN-E10. Be there by 10:15 (UTC+07:00). "
        "Your page: code BCFG2345 at /d",
    }
    # one segment each: vi 70 and zh 69 characters (UCS-2, 70), en 101 (GSM-7, 160)
    assert {lang: len(text) for lang, text in texts.items()} == {"vi": 70, "zh": 69, "en": 101}
    assert all(segments(text) == 1 for text in texts.values()), texts
    # today's vi words alone were two segments (78 characters here)
    assert segments(text_of(data_of(), "vi", HN)) == 2


def test_a_call_gives_the_link_with_a_base_url() -> None:
    texts = {lang: text_of(data_of(), lang, HN, code=CODE, base_url=BASE) for lang in LANGUAGES}
    link = f"{BASE}/d/c/{CODE}"
    assert all(text.endswith(link) for text in texts.values()), texts
    assert texts["en"].endswith(f"(UTC+07:00). Your page: {link}")
    assert texts["vi"] == f"borderflow: Đến làn HN-E10 trước 10:15 (UTC+07:00). {link}"
    assert texts["zh"].endswith(f"前到达。页面：{link}")
    # en stays one GSM-7 segment with a base of up to 65 characters; a link cannot fit one
    # UCS-2 segment with the vi or zh words: two, with a base of up to 69 (vi) or 68 (zh)
    assert {lang: segments(text) for lang, text in texts.items()} == {"vi": 2, "zh": 2, "en": 1}
    longest = {"en": 65, "vi": 69, "zh": 68}
    for lang, size in longest.items():
        base = "https://" + "b" * (size - len("https://.ex")) + ".ex"
        assert len(base) == size
        text = text_of(data_of(), lang, HN, code=CODE, base_url=base)
        longer = text_of(data_of(), lang, HN, code=CODE, base_url=base + "x")
        assert segments(longer) == segments(text) + 1, (lang, len(text))


def test_a_truck_with_no_code_is_texted_as_before() -> None:
    for lang in LANGUAGES:
        assert text_of(data_of(), lang, HN, code=None, base_url=BASE) == text_of(
            data_of(), lang, HN
        )
    assert text_of(data_of(), "vi", HN).startswith("borderflow: Hãy đến cửa khẩu ngay, làn HN-E10")


def test_a_recall_and_a_lost_place_are_texted_as_before() -> None:
    """The call's SMS has the page; repeated, it would make a recall a segment longer in
    every language (zh 70 -> 89 characters, en with a link 123 -> 170, vi 129 -> 148)."""
    recall = data_of(replace(CALL, call_id="v1/call-2", kind=CallKind.RECALL))
    lost = data_of(PlaceLost("v1", "huu-nghi", "hn-exp-wait", T0, "v1/call-2", "no show", T0))
    for event in (recall, lost):
        for lang in LANGUAGES:
            assert text_of(event, lang, HN, code=CODE, base_url=BASE) == text_of(event, lang, HN)


class Recording:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, note: Notification) -> None:
        self.sent.append(note)


def notice(call_id: str, visit_id: str) -> CallNotice:
    payload = data_of(replace(CALL, call_id=call_id, visit_id=visit_id))
    return CallNotice(call_id, visit_id, "huu-nghi", "truck.called", payload)


@pytest.mark.parametrize("public_url", [None, BASE])
async def test_each_truck_is_texted_its_own_code_and_a_truck_without_one_none(
    public_url: str | None,
) -> None:
    """Three trucks called together: each SMS carries its own truck's code and never
    another's; the walk-in whose page is not written yet (no code) gets today's words."""
    data = MemoryCallNotices(languages={"v2": "vi"}, codes={"v1": CODE, "v2": OTHER})
    sender = Recording()
    notices = CallNotices(
        uow=data.stores(),
        notifier=sender,
        wall=lambda: T0,
        utc_offsets={"huu-nghi": HN},
        public_url=public_url,
    )
    await notices.keep(
        KeepCalls((notice("v1/c", "v1"), notice("v2/c", "v2"), notice("v3/c", "v3")))
    )
    assert await notices.deliver_due() == 3
    texts = {note.visit_id: note.text for note in sender.sent}
    shown = f"{public_url}/d/c/" if public_url else "/d"
    assert CODE in texts["v1"] and OTHER not in texts["v1"] and shown in texts["v1"]
    assert (
        OTHER in texts["v2"]
        and CODE not in texts["v2"]
        and texts["v2"].startswith("borderflow: Đến làn")
    )
    assert texts["v3"] == text_of(dict(notice("v3/c", "v3").payload), None, HN)
    # once each: delivered, nothing more to send
    assert await notices.deliver_due() == 0 and len(sender.sent) == 3


@pytest.mark.parametrize("value", ["border.example", "ftp://border.example", "https://"])
def test_a_public_url_not_http_is_refused_at_the_call_notifiers_start(
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERFLOW_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/bf.db")
    monkeypatch.setenv("BORDERFLOW_PUBLIC_URL", value)
    assert cli_main(["worker", "call-notifier"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"borderflow worker: BORDERFLOW_PUBLIC_URL='{value}': an http(s) URL with a host"
    ), err
    assert err.count("\n") == 1, err
