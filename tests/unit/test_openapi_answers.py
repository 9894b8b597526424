"""What the OpenAPI document says an operation answers, read as a generated client reads it:
a Server-Sent Events stream is documented as `text/event-stream` (the control room's stream
was `application/json` with any value, so a client tried to parse its events as JSON; the
other side's, `/v1/xborder/stream`, had no content type at all)."""

from __future__ import annotations

import json
import re
from typing import Any

from services.api.app import create_app
from services.api.problem_types import FIRM_PATHS

DOCUMENT = create_app(context_factory=lambda: None).openapi()
STREAMS = {"/control/api/stream", "/v1/xborder/stream", "/d/{token}/events"}


def _answers() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (method, path, status, answer)
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
    ]


def test_an_event_stream_is_documented_as_one() -> None:
    streams = {
        path
        for method, path, status, answer in _answers()
        if "text/event-stream" in answer.get("content", {})
    }
    assert streams == STREAMS
    for method, path, status, answer in _answers():
        if path in STREAMS and status == "200":
            assert set(answer["content"]) == {"text/event-stream"}, (method, path)


def test_every_operation_documents_the_422_of_a_query_it_refuses() -> None:
    """Every route refuses text no database can store in a query (a NUL), and a firm's
    route a parameter it does not take: `GET /v1/firm/settings?x=1`, `/health?q=%00` and
    `/control/api/me?q=%00` answered a 422 their operations did not document."""
    for method, path, status, answer in _answers():
        if status == "422":
            assert set(answer["content"]) == {"application/problem+json"}, (method, path)
    documented = {(m, p) for m, p, status, _ in _answers() if status == "422"}
    assert documented == {(m, p) for m, p, _, _ in _answers()}


def test_every_json_answer_has_a_schema() -> None:
    """A typed client got an untyped value for the driver's page's data and its check-in's
    answer; the control room's snapshot is still untyped (its shape is the page's,
    services/control/snapshot.py), and no other may join it."""
    untyped = {
        (method, path, status)
        for method, path, status, answer in _answers()
        for media, content in answer.get("content", {}).items()
        if media.endswith("json") and not content.get("schema")
    }
    assert untyped == {("get", "/control/api/state", "200")}


def test_a_redirect_has_no_json_body() -> None:
    """`GET /d/c/{code}`'s 303 was documented as `application/json` with any value."""
    for method, path, status, answer in _answers():
        if status.startswith("3"):
            assert "content" not in answer, (method, path, status)
            assert answer["headers"]["Location"]["required"], (method, path, status)


def test_each_firm_refusal_lists_its_problem_types() -> None:
    """A client generated from the document can switch on a refusal's `type` knowing every
    case: each problem answer of a firm's operation lists its types (it gave statuses only)."""
    firm = [a for a in _answers() if a[1].startswith(FIRM_PATHS)]
    assert len(firm) > 50
    for method, path, status, answer in firm:
        if "application/problem+json" in answer.get("content", {}):
            listed = answer["x-problem-types"]
            assert listed, (method, path, status)
            assert all(t.startswith("urn:borderflow:problem:") for t in listed)
            assert all(t.rsplit(":", 1)[1] in answer["description"] for t in listed)


def test_a_member_always_sent_is_required() -> None:
    """A generated client types a member the schema leaves optional as one that may be
    missing: a booking's `driver_page`, a firm's `webhook_url`, an xborder alert's
    `acknowledged`, a review item's `customs_status` were optional in the document, and the
    API sends each every time (null when none). Only the driver's page's data leaves
    members out (a booked page without its slot or with a waiting area, a lost place
    without its deadline, a call stored before its full deadline was)."""
    schemas = DOCUMENT["components"]["schemas"]
    answered: set[str] = set()
    todo = [
        ref.rsplit("/", 1)[1]
        for _, _, status, answer in _answers()
        if status.startswith("2")
        for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(answer))
    ]
    while todo:
        name = todo.pop()
        if name not in answered:
            answered.add(name)
            todo += [
                r.rsplit("/", 1)[1]
                for r in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schemas[name]))
            ]
    optional = {
        (name, member)
        for name in answered
        for member in schemas[name].get("properties", {})
        if member not in schemas[name].get("required", [])
    }
    assert optional == {
        ("BookedPage", "slot_start"), ("BookedPage", "slot_end"),
        # false only, at a gate with no waiting area for the truck's direction
        ("BookedPage", "waiting_area"),
        ("LostPage", "missed"), ("LostPage", "zone"),
        # a page written before 2026-12-06 has neither
        ("AtGatePage", "reached_at"), ("AtGatePage", "zone"),
        # a called page written before 94caabc has no full deadline
        ("CalledPage", "deadline"),
    }  # fmt: skip
