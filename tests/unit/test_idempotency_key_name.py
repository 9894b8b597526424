"""The booking request's key header has one spelling, `Idempotency-Key` (the IETF draft's),
in the OpenAPI document, its reference page and the problems that name it. Found by a
stranger's test: the document called it `idempotency-key` (FastAPI's spelling of the
argument) and a missing key's problem named `idempotency-key`, where the docs, the code's
409 and every example say `Idempotency-Key`. The API takes it in any case (HTTP headers
are case-insensitive)."""

from __future__ import annotations

from pathlib import Path

from services.api.app import create_app

DOCUMENT = create_app(context_factory=lambda: None).openapi()
REFERENCE = Path(__file__).parents[2] / "docs" / "reference" / "http-api.md"


def test_the_document_names_the_header_idempotency_key() -> None:
    parameters = DOCUMENT["paths"]["/v1/bookings"]["post"]["parameters"]
    headers = [p["name"] for p in parameters if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]


def test_the_reference_names_it_so() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    assert "| `Idempotency-Key` | header |" in text
    assert "`idempotency-key` |" not in text
