"""A property-based run of the OpenAPI document (schemathesis) against the running API.

The API is served by uvicorn on a real TCP port, in a thread of its own, on a fresh
PostgreSQL schema holding two firms with manifests. Schemathesis generates requests from
`/openapi.json` for every firm-facing `/v1` operation (valid and invalid bodies, query
strings and path ids, with the first firm's key) and checks each response: no 5xx, the
status code is one the document declares, and the body, content type and headers match the
document. Any contradiction is a failure of this test, to be fixed in the API or its
document, never here.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, CheckContext, GenerationMode, Response
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lanes.model import Direction, Manifest
from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.bootstrap import prepare_database
from services.db.engine import create_engine, session_factory
from services.db.firms import create_firm
from services.db.manifests import store_manifests
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings, KafkaSettings
from tests.conftest import POSTGRES_URL

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(600)]

# Firm-facing operations: manifests, bookings and slots. The control room's pages and
# streams (issue 6) and the health probe are tested on their own.
FIRM_PATHS = r"^/v1/(manifests|bookings|slots)"
KEYS: dict[str, str] = {}
PROBLEM = "application/problem+json"
EXAMPLES = 60


async def _prepare(schema: str) -> None:
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    engine = create_engine(DatabaseSettings(url=POSTGRES_URL, schema_name=schema))
    now = datetime.now(UTC)
    try:
        await prepare_database(engine, default_gates())
        async with session_factory(engine)() as session, session.begin():
            for firm in ("firm-a", "firm-b"):
                KEYS[firm] = (
                    await create_firm(session=session, firm_id=firm, name=firm, now=now)
                ).key
                await store_manifests(
                    session=session,
                    manifests=[
                        Manifest(
                            manifest_id=f"{firm}-{j}",
                            firm_id=firm,
                            direction=Direction.EXPORT if j % 2 else Direction.IMPORT,
                            tractor_plate=f"29H1234{j}",
                            perishable=j == 0,
                        )
                        for j in range(5)
                    ],
                    source="http",
                    now=now,
                )
    finally:
        await engine.dispose()


async def _drop(schema: str) -> None:
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def api_base() -> Iterator[str]:
    schema = f"bf_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_prepare(schema))
    engine = create_engine(DatabaseSettings(url=POSTGRES_URL, schema_name=schema))
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
        limiter=RateLimiter(rate=100_000.0, burst=100_000),
    )
    port = _free_port()
    # Lifespan off: no booking-event publisher without a broker; events stay in the outbox.
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(context), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        asyncio.run(_drop(schema))


@schemathesis.check
def precise_problem(ctx: CheckContext, response: Response, case: schemathesis.Case) -> bool:
    """Every 4xx is RFC 9457 problem+json, and a 400/422 names each field at fault."""
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith(PROBLEM), (
            f"{response.status_code} is not problem+json"
        )
        body = response.json()
        assert body["status"] == response.status_code and body["title"] and body["type"]
        if response.status_code in (400, 422):
            assert body.get("errors"), f"no field named in {body}"
            assert all(error.get("field") and error.get("message") for error in body["errors"])
    return True


def _check_operation(operation: APIOperation, key: str, mode: GenerationMode) -> None:
    """Generated requests for one operation: every response must satisfy every check."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        # the same cases on every run, so CI is repeatable; BORDERFLOW_PROPERTY_EXPLORE=1
        # draws new ones each run (and --hypothesis-seed=N replays a run's)
        derandomize=not os.environ.get("BORDERFLOW_PROPERTY_EXPLORE"),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        # The firm's key replaces the generated bearer token; a case generated without
        # one (a negative case: the header is required) is sent without, for its 401.
        headers = dict(case.headers or {})
        if mode is GenerationMode.POSITIVE or "Authorization" in headers:
            headers["Authorization"] = f"Bearer {key}"
        case.headers = headers
        case.call_and_validate(
            # Schema-valid is not always valid: a plate must be a Vietnamese or Chinese
            # plate, a window must end after it starts, a slot must lie in the horizon.
            # Such requests get a 422 naming the field (`precise_problem` checks that),
            # not the 2xx this check demands of every schema-valid body.
            excluded_checks=[positive_data_acceptance],
            additional_checks=[precise_problem],
        )

    run()


def test_firm_api_matches_its_openapi_document(api_base: str) -> None:
    # Schemathesis's own pytest plugin does not run on pytest 9 (it reads a private node
    # attribute), so the operations are driven through Hypothesis directly.
    loaded = schemathesis.openapi.from_url(f"{api_base}/openapi.json")
    operations = [
        result.ok() for result in loaded.include(path_regex=FIRM_PATHS).get_all_operations()
    ]
    assert len(operations) == 10
    failures: list[str] = []
    for operation in operations:
        # Schema-valid requests, then schema-invalid ones (which must all be refused).
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _check_operation(operation, KEYS["firm-a"], mode)
            except Exception as exc:  # one report for all operations, each with its failure
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}):\n{exc}")
    assert not failures, "\n\n".join(failures)


def test_the_document_covers_every_firm_operation(api_base: str) -> None:
    document = httpx.get(f"{api_base}/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, ops in document["paths"].items()
        for method in ops
        if path.startswith(("/v1/manifests", "/v1/bookings", "/v1/slots"))
    }
    assert operations == {
        ("POST", "/v1/manifests"),
        ("GET", "/v1/manifests"),
        ("GET", "/v1/manifests/{manifest_id}"),
        ("POST", "/v1/bookings"),
        ("GET", "/v1/bookings"),
        ("GET", "/v1/bookings/{booking_id}"),
        ("POST", "/v1/bookings/{booking_id}/reschedule"),
        ("POST", "/v1/bookings/{booking_id}/cancel"),
        ("POST", "/v1/bookings/{booking_id}/check-in"),
        ("GET", "/v1/slots"),
    }
