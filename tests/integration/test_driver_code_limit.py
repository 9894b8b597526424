"""The drivers' short codes, limited (services/drivers/guard.py), through the real API app:
before, `/d/c/{code}` and the form at `/d` looked up as many codes as a client sent, so a
40-bit code printed at the waiting area could be guessed by trying. Codes not found are
limited per client address and in all; beyond, 429 with `Retry-After` (a problem, or to a
browser the form saying how long to wait in the driver's language), the code not looked up;
a driver at another address who types a right code is never held back. The limiter's
clock (monotonic, operational) is the test's: nothing sleeps. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.db.engine import session_factory
from services.drivers.guard import CodeGuard
from services.drivers.hub import page_code, page_token
from services.drivers.store import save_pages
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings
from tests.integration.test_driver_pages_api import CHROME_VI, T0

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SECRET = b"k" * 32
WRONG = ["ZZZZZZZZ", "ZZZZZZZY", "ZZZZZZZX", "ZZZZZZZW", "ZZZZZZZV"]


class Tick:
    """The limiter's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def app_with(engine: AsyncEngine, guard: CodeGuard) -> FastAPI:
    return create_app(
        ApiContext(
            sessions=session_factory(engine),
            kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
            bootstrap="127.0.0.1:9",
            gates=default_gates(),
            default_gate="huu-nghi",
            limiter=RateLimiter(rate=10_000.0, burst=10_000),
            drivers_secret=SECRET,
            code_guard=guard,
        )
    )


@asynccontextmanager
async def phone(app: object, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address` (the socket's peer)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50123))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://borderflow.test") as c:
        yield c


async def a_walk_in(engine: AsyncEngine) -> tuple[str, str]:
    """A walk-in's page, as the call-forward worker writes it: (its code, its path)."""
    async with session_factory(engine)() as session, session.begin():
        await save_pages(
            session=session, secret=SECRET, states={"v-1": {"status": "queued"}}, now=T0
        )
    return page_code(SECRET, "v-1"), f"/d/{page_token(SECRET, 'v-1')}"


@pytest.fixture
def tick() -> Iterator[Tick]:
    yield Tick()


async def test_codes_not_found_from_one_address_are_refused_then_allowed_again(
    engine: AsyncEngine, tick: Tick
) -> None:
    code, page = await a_walk_in(engine)
    app = app_with(engine, CodeGuard(burst=3, per_min=1.0, clock=tick))
    async with phone(app, "203.0.113.7") as guesser, phone(app, "198.51.100.20") as driver:
        for wrong in WRONG[:2]:
            assert (await guesser.get(f"/d/c/{wrong}")).status_code == 404
        sent = await guesser.get("/d", params={"code": WRONG[2]}, headers=CHROME_VI)
        assert sent.status_code == 404  # the form counts as /d/c does: 3 not found
        refused = await guesser.get(f"/d/c/{WRONG[3]}")
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"] == "60"
        body = refused.json()
        assert body["status"] == 429 and "too many codes not found" in body["detail"]
        # the right code from that address is not looked up either: a guess would tell
        assert (await guesser.get(f"/d/c/{code}")).status_code == 429
        # a phone's browser: the form, saying how long to wait, in the driver's language
        for path, params in ((f"/d/c/{code}", None), ("/d", {"code": code})):
            page_429 = await guesser.get(path, params=params, headers=CHROME_VI)
            assert page_429.status_code == 429 and page_429.headers["retry-after"] == "60"
            assert page_429.headers["content-type"].startswith("text/html")
            assert '<html lang="vi">' in page_429.text
            assert "đợi 1 phút" in page_429.text and 'name="code"' in page_429.text
            # and the truck's plate asked for, with which the code is looked up
            assert 'name="plate"' in page_429.text  # (test_driver_code_plate.py)
        # a driver at another address is not held back by these failures
        found = await driver.get(f"/d/c/{code}")
        assert found.status_code == 303 and found.headers["location"] == page
        typed = await driver.get("/d", params={"code": code.lower()}, headers=CHROME_VI)
        assert typed.status_code == 303 and typed.headers["location"] == page
        # a minute on, the guesser has one try back, and one only
        tick.now += 59.0
        assert (await guesser.get(f"/d/c/{WRONG[4]}")).status_code == 429
        tick.now += 1.0
        assert (await guesser.get(f"/d/c/{WRONG[4]}")).status_code == 404
        assert (await guesser.get(f"/d/c/{code}")).status_code == 429
        # a code found spends nothing: the driver, having found it, still has 3 to get wrong
        for wrong in WRONG[:3]:
            assert (await driver.get(f"/d/c/{wrong}")).status_code == 404
        assert (await driver.get(f"/d/c/{WRONG[3]}")).status_code == 429


async def test_a_guess_spread_over_addresses_is_held_and_a_driver_typing_right_is_not(
    engine: AsyncEngine, tick: Tick
) -> None:
    """All addresses together may get 4 codes wrong: then an address that got one wrong in
    the last 10 minutes (its own allowance: 10 at 1 a minute) is refused; one that did not
    is looked up, right or wrong."""
    code, page = await a_walk_in(engine)
    # the total comes back slowly (1 an hour): it stays spent for the whole test
    guard = CodeGuard(burst=10, per_min=1.0, total_burst=4, total_per_min=1 / 60, clock=tick)
    app = app_with(engine, guard)
    for n in range(4):
        async with phone(app, f"192.0.2.{n}") as bot:
            assert (await bot.get(f"/d/c/{WRONG[n]}")).status_code == 404
    async with phone(app, "192.0.2.0") as bot:
        refused = await bot.get(f"/d/c/{WRONG[4]}")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "600"
    async with phone(app, "198.51.100.20") as driver:
        assert (await driver.get(f"/d/c/{code}")).headers["location"] == page
    async with phone(app, "198.51.100.21") as other:
        assert (await other.get(f"/d/c/{WRONG[4]}")).status_code == 404  # looked up
        assert (await other.get(f"/d/c/{code}")).status_code == 429  # failed just now
    # ten minutes after its failure, an address is looked up again though the total is spent
    async with phone(app, "192.0.2.0") as bot:
        tick.now += 599.0
        assert guard.wait("192.0.2.0") > 0
        tick.now += 1.0
        assert (await bot.get(f"/d/c/{code}")).status_code == 303


async def test_behind_a_trusted_proxy_the_forwarded_client_counts_and_else_the_peer(
    engine: AsyncEngine, tick: Tick
) -> None:
    """As uvicorn serves the app: `X-Forwarded-For` names the client only when the peer is
    a proxy it trusts (FORWARDED_ALLOW_IPS, here 127.0.0.1); from any other peer the header
    is ignored, so a client cannot dodge its limit by writing it. An IPv6 client counts by
    its /64."""
    code, page = await a_walk_in(engine)
    app = ProxyHeadersMiddleware(
        app_with(engine, CodeGuard(burst=2, per_min=1.0, clock=tick)), trusted_hosts="127.0.0.1"
    )
    async with phone(app, "127.0.0.1") as proxy:
        for wrong in WRONG[:2]:
            sent = await proxy.get(f"/d/c/{wrong}", headers={"X-Forwarded-For": "203.0.113.7"})
            assert sent.status_code == 404
        over = await proxy.get(f"/d/c/{code}", headers={"X-Forwarded-For": "203.0.113.7"})
        assert over.status_code == 429
        other = await proxy.get(f"/d/c/{code}", headers={"X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 303 and other.headers["location"] == page
    async with phone(app, "192.0.2.50") as liar:
        for n, wrong in enumerate(WRONG[:2]):
            sent = await liar.get(f"/d/c/{wrong}", headers={"X-Forwarded-For": f"10.9.9.{n}"})
            assert sent.status_code == 404
        lied = await liar.get(f"/d/c/{code}", headers={"X-Forwarded-For": "10.9.9.9"})
        assert lied.status_code == 429
    async with phone(app, "2001:db8:1:2::1") as v6, phone(app, "2001:db8:1:2::ff") as same:
        for wrong in WRONG[:2]:
            assert (await v6.get(f"/d/c/{wrong}")).status_code == 404
        assert (await same.get(f"/d/c/{code}")).status_code == 429
    async with phone(app, "2001:db8:1:3::1") as next_net:
        assert (await next_net.get(f"/d/c/{code}")).status_code == 303


async def test_drivers_on_one_wifi_each_typing_wrong_then_right_are_not_locked_out(
    engine: AsyncEngine, tick: Tick
) -> None:
    """The waiting area's Wi-Fi (or a carrier's NAT) is one address for all its drivers.
    Before, each driver's typo before their own code spent the address's allowance for
    good (a code found gave nothing back): with an allowance of 3, the third driver who
    typed one character wrong then right was refused (429) for their own, right code, and
    every driver after them on that Wi-Fi too. A code found now gives the address's last
    failure back, once per code in the time an empty bucket takes to fill (3 min here), so
    a truck's own code typed between guesses buys a guesser no more than one guess."""
    pages = {f"v-{n}": {"status": "queued"} for n in range(6)}
    async with session_factory(engine)() as session, session.begin():
        await save_pages(session=session, secret=SECRET, states=pages, now=T0)
    codes = [page_code(SECRET, key) for key in pages]
    app = app_with(engine, CodeGuard(burst=3, per_min=1.0, clock=tick))
    async with phone(app, "100.64.0.1") as wifi:
        for n, code in enumerate(codes):
            typo = ("Z" if code[-1] != "Z" else "Y") + code[1:]
            assert (
                await wifi.get("/d", params={"code": typo}, headers=CHROME_VI)
            ).status_code == 404
            found = await wifi.get(f"/d/c/{code.lower()}")
            assert found.status_code == 303, f"driver {n}: {found.status_code}"
            assert found.headers["location"] == f"/d/{page_token(SECRET, f'v-{n}')}"
        # a guesser on the same Wi-Fi: its misses are counted as before; a code it knows,
        # typed again between guesses, gives nothing more back within the 3 minutes
        for wrong in WRONG[:3]:
            assert (await wifi.get(f"/d/c/{wrong}")).status_code == 404
        assert (await wifi.get(f"/d/c/{WRONG[3]}")).status_code == 429
        tick.now += 60.0
        assert (await wifi.get(f"/d/c/{codes[0]}")).status_code == 303
        assert (await wifi.get(f"/d/c/{WRONG[3]}")).status_code == 404
        assert (await wifi.get(f"/d/c/{WRONG[4]}")).status_code == 429
        assert (await wifi.get(f"/d/c/{codes[1]}")).status_code == 429  # not looked up


async def test_a_code_no_code_could_be_is_said_so_and_costs_no_try(
    engine: AsyncEngine, tick: Tick
) -> None:
    """A code has 8 characters of an alphabet with no 0, O, 1 or I. Before, a code typed
    short, long or with one of those (a driver reading the printed O as a zero) was looked
    up and counted as a wrong code like a guess: a driver could spend the address's whole
    allowance (and their Wi-Fi's drivers') without ever typing anything a code could be,
    and was told only that no truck had it. Now such a code is not looked up nor counted,
    and the form says what a code is made of, in the driver's language; a guesser learns
    nothing from it (no code has that shape)."""
    code, page = await a_walk_in(engine)
    app = app_with(engine, CodeGuard(burst=2, per_min=1.0, clock=tick))
    shapes = ["ZZZZZZZ", "ZZZZZZZZZ", "ZZZZZZZ0", "ZZZZZZZO", "ZZZZZZZ1", "ZZZZZZZI", "ZZZZ+ZZZ"]
    async with phone(app, "100.64.0.2") as driver:
        for typed in shapes:
            form = await driver.get("/d", params={"code": typed}, headers=CHROME_VI)
            assert form.status_code == 404, typed
            assert "Mã gồm 8 ký tự" in form.text and "không có 0, O, 1 hay I" in form.text
            assert (await driver.get(f"/d/c/{typed}")).status_code == 404
        found = await driver.get("/d", params={"code": code}, headers=CHROME_VI)
        assert found.status_code == 303 and found.headers["location"] == page
        # a code of the right shape that no truck has is counted, as before
        for wrong in WRONG[:2]:
            sent = await driver.get("/d", params={"code": wrong}, headers=CHROME_VI)
            assert sent.status_code == 404 and "Không có xe nào có mã này" in sent.text
        assert (await driver.get(f"/d/c/{WRONG[2]}")).status_code == 429
