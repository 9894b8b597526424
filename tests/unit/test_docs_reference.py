"""The committed reference documents (docs/reference/) are what the code gives now: the
OpenAPI document of the app, the AsyncAPI document of every topic built from the pydantic
models in streams/, and the gate-file reference from its schema. A route, a model or a gate
field changed without `make docs-gen` fails here, naming the file (issue 24)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import gen_reference  # noqa: E402


@pytest.fixture(scope="module")
def outputs() -> dict[Path, str]:
    return {path: make() for path, make in gen_reference.outputs().items()}


@pytest.mark.parametrize(
    "name", ["openapi.json", "http-api.md", "asyncapi.json", "event-formats.md", "gate-file.md"]
)
def test_committed_reference_matches_the_code(outputs: dict[Path, str], name: str) -> None:
    path = gen_reference.OUT / name
    assert path in outputs
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    assert committed == outputs[path], (
        f"docs/reference/{name} is stale: run `make docs-gen` and commit the result"
    )


def test_asyncapi_names_every_topic_and_every_payload_resolves(
    outputs: dict[Path, str],
) -> None:
    from streams.topics import all_topics  # noqa: PLC0415

    doc = json.loads(outputs[gen_reference.OUT / "asyncapi.json"])
    assert doc["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in doc["channels"].values()}
    assert addresses == {spec.name for spec in all_topics()}
    schemas = doc["components"]["schemas"]
    for message in doc["components"]["messages"].values():
        assert message["payload"]["$ref"].rsplit("/", 1)[1] in schemas
    for operation in doc["operations"].values():
        assert operation["channel"]["$ref"].rsplit("/", 1)[1] in doc["channels"]


def test_openapi_documents_the_firm_operations(outputs: dict[Path, str]) -> None:
    doc = json.loads(outputs[gen_reference.OUT / "openapi.json"])
    assert {"/v1/manifests", "/v1/bookings", "/v1/slots", "/health"} <= set(doc["paths"])


def test_openapi_says_what_each_route_answers(outputs: dict[Path, str]) -> None:
    """Found by a stranger's try: the driver's page was documented as JSON (it is HTML), its
    short code as a 200 (a 303), and routes that refuse a login or a key had no 401."""
    paths = json.loads(outputs[gen_reference.OUT / "openapi.json"])["paths"]

    def answers(method: str, path: str) -> dict[str, dict[str, object]]:
        return paths[path][method]["responses"]

    assert "text/html" in answers("get", "/d/{token}")["200"]["content"]
    assert "text/event-stream" in answers("get", "/d/{token}/events")["200"]["content"]
    # 429: too many codes not found from one address (services/drivers/guard.py)
    assert set(answers("get", "/d/c/{code}")) == {"303", "404", "422", "429"}
    for method, path in [
        ("get", "/v1/queue"),
        ("get", "/v1/waiting-area"),
        ("get", "/v1/review"),
        ("get", "/v1/firm/settings"),
        ("get", "/control/api/state"),
        ("post", "/control/api/actions"),
        ("get", "/control/api/me"),
        ("get", "/v1/xborder/state"),
    ]:
        assert "401" in answers(method, path), (method, path)
    assert {"404", "409"} <= set(answers("post", "/control/api/actions"))
    bodies = [(m, p) for p, ops in paths.items() for m, op in ops.items() if "requestBody" in op]
    assert len(bodies) >= 8
    for method, path in bodies:  # over 1 MiB, or not JSON
        assert {"413", "415"} <= set(answers(method, path)), (method, path)


def test_a_changed_model_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: a field added to a topic's model changes the document."""
    from pydantic import create_model  # noqa: PLC0415

    from streams.events import PlateReadV1  # noqa: PLC0415

    before = gen_reference.dump_json(gen_reference.asyncapi_document())
    changed = create_model("PlateReadV1", __base__=PlateReadV1, lane_hint=(str | None, None))
    original = gen_reference._topic_models

    def patched() -> list:  # type: ignore[type-arg]
        return [
            (spec, title, [changed if m is PlateReadV1 else m for m in models], how)
            for spec, title, models, how in original()
        ]

    monkeypatch.setattr(gen_reference, "_topic_models", patched)
    after = gen_reference.dump_json(gen_reference.asyncapi_document())
    assert before != after and "lane_hint" in after


def test_every_gate_file_field_has_a_meaning() -> None:
    """A field added to services/gates/schema.py must be explained in GATE_FIELDS."""
    schema, defs = gen_reference.gate_schema()
    missing = [
        f"{model}.{name}"
        for model, definition in [("GateConfig", schema), *defs.items()]
        for name, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == [], f"add these to GATE_FIELDS in scripts/gen_reference.py: {missing}"
    known = {
        f"{model}.{name}"
        for model, definition in [("GateConfig", schema), *defs.items()]
        for name in definition.get("properties", {})
    }
    assert set(gen_reference.GATE_FIELDS) <= known, "GATE_FIELDS names a field that is gone"


def test_openapi_documents_every_refusal_as_a_problem(outputs: dict[Path, str]) -> None:
    """Found by a schema-driven client (schemathesis): each 422 was documented as FastAPI's
    `HTTPValidationError` in `application/json` while the API answers a problem, and the 400
    of a body that is not JSON was undocumented on every operation taking a body."""
    doc = json.loads(outputs[gen_reference.OUT / "openapi.json"])
    checked = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4") and "content" in answer:
                    assert "application/json" not in answer["content"], (method, path, status)
                    checked += 1
            if "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)
    assert checked >= 50
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_every_operation_taking_a_gate_documents_its_404(outputs: dict[Path, str]) -> None:
    """Found by schemathesis: GET /v1/review answered an unknown gate with an undocumented
    404 (every route checks its `gate` against the configured gates)."""
    paths = json.loads(outputs[gen_reference.OUT / "openapi.json"])["paths"]
    taking = [
        (method, path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "gate" in {p["name"] for p in operation.get("parameters", [])}
    ]
    assert len(taking) >= 4
    for method, path in taking:
        assert "404" in paths[path][method]["responses"], (method, path)
