"""Real answers against the OpenAPI document, as a client generated from it reads them: for
each documented operation a firm's system or a controller uses, answers to valid and refused
requests (2xx, 4xx), each one's status documented for the operation, its content type
documented for that status, and its body valid by the documented schema (JSON Schema
2020-12), strictly: an object whose schema lists its properties and says nothing of others
may hold no other (a field the API sends and the schema lacks is one a typed client drops or
chokes on); a required property the API leaves out fails too. Over SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

import httpx
import jsonschema
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.controllers import create_controller
from services.db.driver_tables import DriverPageRow
from services.db.engine import session_factory
from streams import clock
from streams.manifests import EXAMPLE as MANIFEST_EXAMPLE
from tests.browser.live import PASSWORD
from tests.integration.test_bookings_api import T0, add_firms, auth
from tests.integration.test_openapi_examples import NOW
from tests.integration.test_problem_members import make_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
SLOT = "2026-12-07T09:00:00+07:00"  # open for booking at NOW


# the headers a client acts on (`X-Request-ID`, on every answer, is the middleware's)
ACTED_ON = {
    "location",
    "retry-after",
    "www-authenticate",
    "idempotent-replayed",
    "check-in-repeated",
}


class Contract:
    """The document, and what was checked against it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = {"components": document["components"]}
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
            for path in document["paths"]
        ]
        self.failures: list[str] = []
        self.seen: set[tuple[str, str, int]] = set()

    def _template(self, path: str) -> str:
        exact = [t for regex, t in self.templates if t == path]
        return exact[0] if exact else next(t for regex, t in self.templates if regex.match(path))

    def check(self, answer: httpx.Response) -> httpx.Response:
        method = answer.request.method.lower()
        template = self._template(answer.request.url.path)
        where = f"{method.upper()} {template} {answer.status_code}"
        self.seen.add((method, template, answer.status_code))
        documented = self.document["paths"][template][method]["responses"]
        response = documented.get(str(answer.status_code))
        if response is None:
            self.failures.append(f"{where}: status not documented ({sorted(documented)})")
            return answer
        self._headers(where, response.get("headers", {}), answer)
        content = response.get("content", {})
        if not answer.content:
            return answer
        media = answer.headers.get("content-type", "").split(";")[0].strip()
        if media not in content:
            self.failures.append(f"{where}: {media} not documented ({sorted(content)})")
            return answer
        listed = response.get("x-problem-types")
        if listed is not None and answer.json().get("type") not in listed:
            self.failures.append(f"{where}: type {answer.json().get('type')} not listed")
        schema = content[media].get("schema")
        if media.endswith("json"):
            if not schema:  # a typed client gets an untyped blob: say what it holds
                self.failures.append(f"{where}: {media} has no schema")
            else:
                self._validate(where, schema, answer.json())
        return answer

    def _headers(self, where: str, documented: dict[str, Any], answer: httpx.Response) -> None:
        """A header a client acts on is documented for the answer; a required one is sent,
        and each sent is valid by its schema."""
        names = {name.lower(): name for name in documented}
        for name in ACTED_ON & set(answer.headers) - set(names):
            self.failures.append(f"{where}: header {name} sent but not documented")
        for lower, name in names.items():
            if lower not in answer.headers:
                if documented[name].get("required"):
                    self.failures.append(f"{where}: header {name} documented, not sent")
                continue
            validator = jsonschema.Draft202012Validator(
                documented[name]["schema"], format_checker=jsonschema.FormatChecker()
            )
            if not validator.is_valid(answer.headers[lower]):
                self.failures.append(f"{where}: header {name}: {answer.headers[lower]!r}")

    def _validate(self, where: str, schema: dict[str, Any], body: Any) -> None:
        validator = jsonschema.Draft202012Validator(schema | self.components)
        for error in validator.iter_errors(body):
            path = "/".join(str(p) for p in error.absolute_path)
            self.failures.append(f"{where}: /{path}: {error.message[:200]}")
        for extra in self._extras(schema, body, ""):
            self.failures.append(f"{where}: {extra} is sent but not in the schema")

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _extras(self, schema: dict[str, Any], value: Any, where: str) -> Iterator[str]:
        """Members of `value` that its schema does not list, where the schema lists them
        and does not allow others (`additionalProperties` absent or false)."""
        schema = self._resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                for branch in schema[key]:
                    if jsonschema.Draft202012Validator(branch | self.components).is_valid(value):
                        yield from self._extras(branch, value, where)
                        return
                return
        if isinstance(value, dict) and "properties" in schema:
            others = schema.get("additionalProperties", False)
            for name, item in value.items():
                if name in schema["properties"]:
                    yield from self._extras(schema["properties"][name], item, f"{where}/{name}")
                elif others is False:
                    yield f"{where}/{name}"
                elif isinstance(others, dict):
                    yield from self._extras(others, item, f"{where}/{name}")
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                yield from self._extras(schema["items"], item, f"{where}/{i}")


async def _firm_calls(client: httpx.AsyncClient, contract: Contract, key: str) -> str:
    """A firm's system's calls, valid and refused."""
    c, h = contract.check, auth(key)
    manifest = dict(MANIFEST_EXAMPLE)
    c(await client.post("/v1/manifests", json=manifest, headers=h))  # 201
    c(await client.post("/v1/manifests", json=manifest, headers=h))  # 200
    c(await client.post("/v1/manifests", json=manifest | {"firm_id": "other"}, headers=h))
    c(await client.post("/v1/manifests", json=manifest | {"tractor_plate": "?"}, headers=h))
    c(await client.post("/v1/manifests", json=manifest))  # 401
    c(await client.post("/v1/manifests", content=b"{", headers=h | _JSON))  # 400
    c(await client.post("/v1/manifests", content=b"x", headers=h | {"Content-Type": "text/plain"}))
    c(await client.get("/v1/manifests", headers=h))
    c(await client.get("/v1/manifests", params={"limt": "5"}, headers=h))  # 422
    manifest_id = manifest["manifest_id"]
    c(await client.get(f"/v1/manifests/{manifest_id}", headers=h))
    c(await client.get("/v1/manifests/NOPE-1", headers=h))  # 404
    window = {"direction": "export", "from": "2026-12-07T00:00:00+07:00"}
    c(await client.get("/v1/slots", params=window, headers=h))
    c(await client.get("/v1/slots", params=window | {"gate": "nope"}, headers=h))
    c(await client.get("/v1/slots", params=window | {"to": "2026-12-01T00:00:00+07:00"}, headers=h))
    booking = {"manifest_id": manifest_id, "slot_start": SLOT}
    booked = c(await client.post("/v1/bookings", json=booking, headers=h | _key("k-1")))
    c(await client.post("/v1/bookings", json=booking, headers=h | _key("k-1")))  # replayed
    c(await client.post("/v1/bookings", json=booking, headers=h | _key("k-2")))  # 409
    c(await client.post("/v1/bookings", json=booking | {"gate": "nope"}, headers=h | _key("k-1")))
    c(await client.post("/v1/bookings", json=booking | {"gate": "nope"}, headers=h | _key("k-5")))
    turned = manifest | {"direction": "import"}  # booked: 409 manifest-booked
    c(await client.post("/v1/manifests", json=turned, headers=h))
    wrong = booking | {"slot_start": "2026-12-07T09:30:00+07:00"}
    c(await client.post("/v1/bookings", json=wrong, headers=h | _key("k-3")))  # 422
    unknown = booking | {"manifest_id": "NOPE-1"}
    c(await client.post("/v1/bookings", json=unknown, headers=h | _key("k-4")))  # 404
    booking_id = booked.json()["booking_id"]
    at = f"/v1/bookings/{booking_id}"
    c(await client.get("/v1/bookings", headers=h))
    c(await client.get("/v1/bookings", params={"status": "active", "limit": 1}, headers=h))
    c(await client.get(at, headers=h))
    c(await client.get("/v1/bookings/bk_nope", headers=h))  # 404
    moved = {"slot_start": "2026-12-07T10:00:00+07:00"}
    c(await client.post(f"{at}/reschedule", json=moved, headers=h))
    c(await client.post(f"{at}/reschedule", json={"slot_start": "x"}, headers=h))  # 422
    c(await client.post(f"{at}/check-in", headers=h))
    c(await client.post(f"{at}/check-in", headers=h))  # repeated
    await _driver_calls(client, contract, booked.json()["driver_page"])
    c(await client.post(f"{at}/cancel", json={"reason": "x"}, headers=h))  # 422
    c(await client.post(f"{at}/cancel", headers=h))
    c(await client.post(f"{at}/cancel", headers=h))  # cancelled already: 200
    c(await client.post(f"{at}/check-in", headers=h))  # 409, not active
    page = httpx.URL(booked.json()["driver_page"]).path
    c(await client.post(f"{page}/check-in", params={"lang": "vi"}))  # 409, the page's words
    c(await client.post(f"{at}/reschedule", json=moved, headers=h))  # 409
    c(await client.get("/v1/firm/settings", headers=h))
    hook = {"webhook_url": "https://tms.example.com/borderflow/calls"}
    c(await client.put("/v1/firm/settings", json=hook, headers=h))
    c(await client.put("/v1/firm/settings", json={"webhook_url": "ftp://x"}, headers=h))
    return page.rsplit("/", 1)[-1]


async def _odd_queries(client: httpx.AsyncClient, contract: Contract, key: str) -> None:
    """Each GET without a path parameter, with a query parameter it does not take and with
    text no database stores (a NUL): refused, and the refusal documented."""
    for path, operations in contract.document["paths"].items():
        if "get" not in operations or "{" in path or path.endswith(_NO_HUB):
            continue
        for query in ({"unknown": "1"}, {"q": "\x00"}):
            contract.check(await client.get(path, params=query, headers=auth(key)))


async def _staff_calls(client: httpx.AsyncClient, contract: Contract) -> None:
    """A controller's and an operator's calls (no broker, no hub: their reads only)."""
    c = contract.check
    c(await client.get("/control/api/me"))  # 401
    c(await client.get("/v1/queue"))  # 401
    c(await client.post("/control/api/login", json={"username": "ana", "password": "no"}))
    c(await client.post("/control/api/login", json={"username": "ana"}))  # 422
    for _ in range(6):  # the sixth: 429, Retry-After
        c(await client.post("/control/api/login", json={"username": "vic", "password": "no"}))
    c(await client.post("/control/api/login", json={"username": "ana", "password": PASSWORD}))
    c(await client.get("/control/api/me"))
    c(await client.get("/v1/queue"))
    c(await client.get("/v1/queue", params={"gate": "nope"}))  # 404
    c(await client.get("/v1/waiting-area"))
    c(await client.get("/v1/review"))
    c(await client.get("/v1/review", params={"after": "x"}))  # 422
    c(await client.get("/v1/xborder/state"))
    c(await client.get("/control/api/alerts"))
    c(await client.get("/health"))
    c(await client.get("/metrics"))


async def _driver_calls(client: httpx.AsyncClient, contract: Contract, page: str) -> None:
    """The driver's page of a booking, as its script (and a browser) asks for it."""
    c, path = contract.check, httpx.URL(page).path
    c(await client.get(path, headers={"Accept": "text/html"}))
    c(await client.get(f"{path}/state"))
    c(await client.post(f"{path}/check-in"))
    c(await client.get(path[:-2] + "xx/state"))  # 404
    c(await client.get("/d", headers={"Accept": "text/html"}))
    c(await client.get("/d/c/NOPE", headers={"Accept": "application/json"}))  # 404


_JSON = {"Content-Type": "application/json"}
_NO_HUB = ("/stream", "/events", "/control/api/state")  # the live board: no hub here


def _key(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_every_answer_is_what_the_document_says(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "wall_clock", lambda: NOW)
    key = (await add_firms(engine, ["firm-a"]))["firm-a"]
    async with session_factory(engine)() as session, session.begin():
        await create_controller(
            session=session, username="ana", role="controller", password=PASSWORD, now=T0
        )
    async with make_client(engine) as client:
        app = cast(Any, client._transport).app
        contract = Contract(app.openapi())
        token = await _firm_calls(client, contract, key)
        async with session_factory(engine)() as session:
            code = await session.scalar(
                select(DriverPageRow.code).where(DriverPageRow.token == token)
            )
        contract.check(await client.get(f"/d/c/{code}"))  # 303 to the page
        await _staff_calls(client, contract)
        await _odd_queries(client, contract, key)
        contract.check(await client.post("/control/api/logout"))
    assert not contract.failures, "\n".join(contract.failures)
    statuses = {status for _, _, status in contract.seen}
    assert {200, 201, 204, 303, 400, 401, 403, 404, 409, 415, 422, 429} <= statuses
    firm_operations = {
        (m, p)
        for p, ops in contract.document["paths"].items()
        for m in ops
        if p.startswith(("/v1/manifests", "/v1/bookings", "/v1/slots", "/v1/firm"))
    }
    assert firm_operations <= {(m, p) for m, p, _ in contract.seen}
