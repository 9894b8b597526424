"""The drivers' hub and language choice (issue 23): tokens are unguessable and stable per
secret, a page's stream gets its own truck's data only, the language follows `?lang=`,
then Accept-Language by q, then English."""

from __future__ import annotations

import pytest

from services.drivers.hub import DriverHub, could_be_code, normal_plate
from services.drivers.i18n import WORDS, pick_language


def test_tokens_and_codes_are_stable_per_secret_and_differ_between_trucks() -> None:
    hub, other = DriverHub(secret=b"a"), DriverHub(secret=b"b")
    assert hub.token_for("v1") == hub.token_for("v1") != hub.token_for("v2")
    assert hub.token_for("v1") != other.token_for("v1")
    assert len(hub.token_for("v1")) == 22 and "v1" not in hub.token_for("v1")
    assert len(hub.code_for("v1")) == 8


# What a Vietnamese phone keyboard composes from keys typed (Telex, and VNI's digits): a
# code that contains any of these pairs reaches the server as other letters.
TELEX = {
    **{f"{v}{k}": "x" for v in "AEIOUY" for k in "SFRXJ"},  # a vowel takes a tone mark
    **{p: "x" for p in ("AA", "EE", "OO", "DD", "AW", "OW", "UW")},  # Â Ê Ô Đ Ă Ơ Ư
    **{f"{v}{d}": "x" for v in "AEIOUYD" for d in "123456789"},  # VNI
}


def composed_by_a_vietnamese_keyboard(code: str) -> bool:
    return "W" in code or any(pair in code for pair in TELEX)


def test_no_code_can_be_changed_by_a_vietnamese_keyboard() -> None:
    """Drivers type the code on phones set to Vietnamese, whose keyboards compose Telex
    ('AS' -> 'Á', 'DD' -> 'Đ', 'W' -> 'Ư') or VNI ('A2' -> 'À'): the codes have no vowel,
    no D and no W, so nothing typed can be composed (before 2026-12-06 about a third of
    the codes could be). Every code is still one of the codes' shape, and the 26 symbols
    are all used."""
    hub = DriverHub(secret=b"s")
    codes = [hub.code_for(f"v{n}") for n in range(3000)]
    assert not [c for c in codes if composed_by_a_vietnamese_keyboard(c)]
    assert all(could_be_code(c) for c in codes)
    assert len(set(codes)) == len(codes)
    assert set("".join(codes)) == set("23456789BCFGHJKLMNPQRSTVXZ")


def test_only_published_trucks_have_a_page_and_a_lost_one_is_forgotten_on_request() -> None:
    hub = DriverHub(secret=b"s")
    assert hub.state(hub.token_for("v1")) is None
    hub.publish({"v1": {"status": "waiting", "position": 1}})
    assert hub.state(hub.token_for("v1")) == '{"position": 1, "status": "waiting"}'
    assert hub.token_of_code(hub.code_for("v1").lower()) == hub.token_for("v1")
    hub.publish({"v2": {"status": "waiting", "position": 1}}, keep=False)
    assert hub.state(hub.token_for("v1")) is None


async def test_a_stream_gets_its_own_truck_only_and_the_newest_data() -> None:
    hub = DriverHub(secret=b"s")
    hub.publish({"v1": {"position": 3}, "v2": {"position": 4}})
    async with hub.subscribe("v1") as mine:
        hub.publish({"v2": {"position": 3}})
        assert mine.empty()
        hub.publish({"v1": {"position": 2}})
        hub.publish({"v1": {"position": 1}})
        assert mine.get_nowait() == '{"position": 1}' and mine.empty()


@pytest.mark.parametrize(
    ("lang", "header", "chosen"),
    [
        ("zh", "vi-VN,vi;q=0.9", "zh"),
        (None, "vi-VN,vi;q=0.9,en;q=0.5", "vi"),
        (None, "en;q=0.3, zh-CN;q=0.8", "zh"),
        (None, "de-DE,fr;q=0.5", "en"),
        (None, None, "en"),
        ("xx", "zh-TW", "zh"),
        (None, "vi;q=0", "en"),
        # as phones and browsers send it
        (None, "zh-Hans-CN", "zh"),
        (None, "zh-HK,zh-Hant;q=0.9", "zh"),  # Simplified, the page's only Chinese
        (None, "fr;q=1, zh;q=0.8", "zh"),
        (None, "*", "en"),
        (None, "", "en"),
        (None, ";;,q=,vi;q=abc", "en"),  # malformed: nothing taken from it
        # the weight among other parameters, its name in any case (RFC 9110): before, a q
        # not first, or written Q, was read as no weight at all (1)
        (None, "zh;level=1;q=0.1, vi;q=0.5", "vi"),
        (None, "vi;Q=0.1, zh;q=0.5", "zh"),
    ],
)
def test_the_language(lang: str | None, header: str | None, chosen: str) -> None:
    assert pick_language(lang, header) == chosen


def test_every_language_has_every_word() -> None:
    assert {lang: set(words) for lang, words in WORDS.items()} == {
        lang: set(WORDS["en"]) for lang in WORDS
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("29c-123.45", "29C12345"),
        ("29 LD 012.34", "29LD01234"),
        ("29LĐ-012.34", "29LD01234"),  # Telex DD, VNI D9: the plate's D composed into Đ
        ("29Ĉ-123.45", "29C12345"),  # a mark a keyboard put on a letter, dropped
        ("桂A·12345", "桂A12345"),
        ("ｇｕｉ２９Ｃ", "GUI29C"),  # full-width, as a Chinese input method types
    ],
)
def test_a_plate_typed_on_a_phone_is_read_as_the_gate_stores_it(typed: str, stored: str) -> None:
    """The truck's plate asked for with the code from a refused address (code_form.py) is
    compared in the gate's normal form; a Vietnamese keyboard's compositions taken apart."""
    assert normal_plate(typed) == stored
