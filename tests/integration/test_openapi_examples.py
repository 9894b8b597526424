"""The OpenAPI document's examples and links, sent to the app as a firm's generated client
would: each request body's example and each parameter's, in the order the document's links
lead (a manifest, then its booking, then what may follow a booking), every answer a 2xx. A
schema-driven client (schemathesis) found schema-valid requests refused and nothing in the
document saying why; the examples must stay requests the API takes, so they cannot rot."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import httpx
import jsonschema
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.api.staff import staff_session
from services.db.engine import session_factory
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings
from streams import clock
from streams.manifests import EXAMPLE as MANIFEST_EXAMPLE
from tests.integration.test_bookings_api import add_firms, make_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# 08:00 at the gate (+07:00), two days before the examples' slots: open for booking then
NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
FIRM_PATHS = ("/v1/manifests", "/v1/bookings", "/v1/slots", "/v1/firm")
# a firm's system's calls, in the order the links lead
FLOW = [
    ("post", "/v1/manifests"),
    ("get", "/v1/manifests/{manifest_id}"),
    ("get", "/v1/slots"),
    ("post", "/v1/bookings"),
    ("get", "/v1/bookings/{booking_id}"),
    ("post", "/v1/bookings/{booking_id}/reschedule"),
    ("post", "/v1/bookings/{booking_id}/check-in"),
    ("post", "/v1/bookings/{booking_id}/cancel"),
    ("put", "/v1/firm/settings"),
]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def _example(schema: dict[str, Any]) -> Any:
    return schema["examples"][0] if schema.get("examples") else None


def _evaluate(expression: Any, answer: httpx.Response) -> Any:
    """A link's value: `$response.body#/pointer` read from `answer`, or nested ones."""
    if isinstance(expression, dict):
        return {k: _evaluate(v, answer) for k, v in expression.items()}
    if isinstance(expression, str) and expression.startswith("$response.body#/"):
        node = answer.json()
        for part in expression.removeprefix("$response.body#/").split("/"):
            node = node[part]
        return node
    return expression


def _target(document: dict[str, Any], ref: str) -> tuple[str, str]:
    path, method = ref.removeprefix("#/paths/").rsplit("/", 1)
    path = path.replace("~1", "/").replace("~0", "~")
    assert method in document["paths"][path], f"link to a missing operation {ref}"
    return method, path


def _request(
    document: dict[str, Any],
    method: str,
    path: str,
    linked: dict[str, Any],
) -> tuple[str, dict[str, str], dict[str, str], Any]:
    """URL, query, headers and body of the operation from its examples and `linked` (the
    values links gave it: parameters by name, `requestBody` merged over the example)."""
    operation = document["paths"][path][method]
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        value = linked.get(name, _example(parameter["schema"]))
        if value is None:
            assert not parameter.get("required"), f"{method} {path}: {name} has no example"
            continue
        if parameter["in"] == "path":
            path = path.replace("{" + name + "}", str(value))
        elif parameter["in"] == "query":
            query[name] = str(value)
        else:
            headers[name] = str(value)
    body = None
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = _example(_resolve(document, schema))
        assert body is not None, f"{method} {path}: the request body has no example"
        body = body | linked.get("requestBody", {})
    return path, query, headers, body


async def test_every_documented_example_is_taken(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "wall_clock", lambda: NOW)
    key = (await add_firms(engine, ["firm-a"]))["firm-a"]
    async with make_client(engine) as client:
        document = (await client.get("/openapi.json")).json()
        linked: dict[tuple[str, str], dict[str, Any]] = {}
        for method, path in FLOW:
            url, query, headers, body = _request(
                document, method, path, linked.get((method, path), {})
            )
            answer = await client.request(
                method,
                url,
                params=query,
                json=body,
                headers=headers | {"Authorization": f"Bearer {key}"},
            )
            assert answer.is_success, f"{method.upper()} {url}: {answer.text}"
            documented = document["paths"][path][method]["responses"][str(answer.status_code)]
            for link in documented.get("links", {}).values():
                values = {
                    name: _evaluate(expression, answer)
                    for name, expression in link.get("parameters", {}).items()
                }
                if "requestBody" in link:
                    values["requestBody"] = _evaluate(link["requestBody"], answer)
                linked.setdefault(_target(document, link["operationRef"]), {}).update(values)
        # the links lead from a manifest to its booking and from a booking to what follows
        assert set(linked) == set(FLOW[1:2] + FLOW[3:8])


def test_every_firm_request_body_has_an_example() -> None:
    document = create_app().openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith(FIRM_PATHS) and "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                assert _example(_resolve(document, schema)) is not None, f"{method} {path}"
                assert (method, path) in FLOW, f"{method} {path}: not sent by the test above"


async def test_each_gate_parameter_lists_the_gates_it_takes(engine: AsyncEngine) -> None:
    """The document says which gates the running system takes (`gate: "0"` was schema-valid
    and refused): all its gates, or those taking bookings where a booking's gate is meant."""
    huu_nghi = default_gates()["huu-nghi"]
    gates = {
        "huu-nghi": huu_nghi,
        "tan-thanh": dataclasses.replace(huu_nghi, gate_id="tan-thanh", booking=None),
    }
    key = (await add_firms(engine, ["firm-a"]))["firm-a"]
    async with make_client(engine, gates) as client:
        document = (await client.get("/openapi.json")).json()
        listed = {}
        for path, operations in document["paths"].items():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == "gate":
                        [string] = [s for s in parameter["schema"]["anyOf"] if "enum" in s]
                        listed[path] = string["enum"]
        booking = document["components"]["schemas"]["BookingRequest"]["properties"]["gate"]
        [string] = [s for s in booking["anyOf"] if "enum" in s]
        assert string["enum"] == ["huu-nghi"]
        assert listed["/v1/slots"] == ["huu-nghi"]
        assert listed["/v1/queue"] == listed["/v1/review"] == ["huu-nghi", "tan-thanh"]
        # and what is listed is taken
        answer = await client.get(
            "/v1/slots",
            params={"direction": "export", "gate": listed["/v1/slots"][0]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200, answer.text
        refused = await client.get(
            "/v1/slots",
            params={"direction": "export", "gate": "tan-thanh"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert refused.status_code == 422, refused.text


@pytest.mark.parametrize(
    ("status", "channel"),
    [("inspect", "green"), ("inspect", "red"), ("inspect", None), ("pending", "green")],
)
async def test_the_schema_says_which_customs_channel_a_status_takes(
    engine: AsyncEngine, status: str, channel: str | None
) -> None:
    """A manifest to inspect on the green channel was valid by the document and refused
    (schemathesis: a schema-valid request rejected); the schema now says it as `_channel`
    checks it: valid by the schema exactly when the API takes it."""
    key = (await add_firms(engine, ["firm-a"]))["firm-a"]
    async with make_client(engine) as client:
        document = (await client.get("/openapi.json")).json()
        schema = {"$ref": "#/components/schemas/ManifestV1", "components": document["components"]}
        manifest = dict(MANIFEST_EXAMPLE) | {"customs_status": status, "customs_channel": channel}
        valid = jsonschema.Draft202012Validator(schema).is_valid(manifest)
        answer = await client.post(
            "/v1/manifests", json=manifest, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.is_success == valid, answer.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=", "after"),
        ("before=", "before"),
        ("after=yesterday|d-1", "after"),
        ("after=2026-12-05T08:00:00%2B07:00", "after"),
        ("after=0001-01-01T00:00:00%2B05:00|d-1", "after"),
        ("after=a|d-1&before=b|d-1", "before"),
        ("after=2026-12-05T01:00:00|d-1", "after"),  # no offset: it was a 500
    ],
)
async def test_a_review_cursor_that_is_none_is_a_problem_naming_it(
    engine: AsyncEngine, query: str, field: str
) -> None:
    """schemathesis: `GET /v1/review?after=` answered a bare 422 (`about:blank`, no field
    named; `after` even for a `before`), where every other refusal names its field; a
    cursor without an offset was a 500."""
    async with _staff_client(engine) as client:
        answer = await client.get(f"/v1/review?{query}")
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["type"] == "urn:borderflow:problem:invalid-cursor"
        assert [e["field"] for e in problem["errors"]] == [field]
        # a cursor as the page gives it pages on
        page = await client.get("/v1/review", params={"after": "2026-12-05T01:00:00+00:00|d-1"})
        assert page.status_code == 200, page.text


async def test_a_queue_time_without_offset_is_a_problem_naming_it(engine: AsyncEngine) -> None:
    async with _staff_client(engine) as client:
        answer = await client.get("/v1/queue", params={"at": "2026-12-05T08:00:00"})
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["at"]


def _staff_client(engine: AsyncEngine) -> httpx.AsyncClient:
    """The app with the staff session taken as given (the views' own checks are tested)."""
    app = create_app(
        ApiContext(
            sessions=session_factory(engine),
            kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
            bootstrap="127.0.0.1:9",
            gates=default_gates(),
            default_gate="huu-nghi",
        )
    )
    app.dependency_overrides[staff_session] = lambda: None
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://borderflow.test")
