"""docs/http-api.md says of each window's bounds what the API does. A stranger's test read
"a bound left out is open" of the manifest's crossing window, though a firm's manifest
needs both (`window_start`, `window_end`: a 422 names the one left out); and the slot
listing's row wrote `from` and `to` as needed, though each has a default (now; `from` + 1
day)."""

from __future__ import annotations

import re
from pathlib import Path

from services.api.app import create_app
from streams.manifests import ManifestV1

ROOT = Path(__file__).resolve().parents[2]
PAGE = re.sub(r"\s+", " ", (ROOT / "docs" / "http-api.md").read_text("utf-8"))
DOCUMENT = create_app(context_factory=lambda: None).openapi()


def test_a_manifests_window_bounds_are_both_required_as_the_page_says() -> None:
    required = ManifestV1.model_json_schema()["required"]
    assert {"window_start", "window_end"} <= set(required)
    assert "a bound left out is open" not in PAGE
    assert "both required" in PAGE and "naming the one left out" in PAGE


def test_the_slot_listings_bounds_are_optional_as_the_page_says() -> None:
    parameters = DOCUMENT["paths"]["/v1/slots"]["get"]["parameters"]
    bounds = {p["name"]: p.get("required", False) for p in parameters if p["in"] == "query"}
    assert bounds["from"] is False and bounds["to"] is False
    assert "`GET /v1/slots?direction=[&from=][&to=][&gate=]`" in PAGE
    assert "`from` left out is now, `to` left out is `from` + 1 day" in PAGE
