"""What the OpenAPI document says of a request body is what the API checks: a body valid by
the document's schema (JSON Schema 2020-12, as a generated client or schemathesis reads it)
is taken by the body's model, and one the model refuses is invalid by the document. Found
by schemathesis: a control-room action without the field it needs (`pick_manifest` with
`visit_id: ""`) was valid by the document and refused."""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from services.api.app import create_app
from services.control.routes import ActionBody

DOCUMENT = create_app(context_factory=lambda: None).openapi()


def _valid_by_the_document(name: str, body: dict[str, Any]) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return bool(jsonschema.Draft202012Validator(schema).is_valid(body))


def _taken(model: type[BaseModel], body: dict[str, Any]) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


ACTIONS = (
    "pick_manifest",
    "confirm_plate",
    "reassign",
    "hold",
    "release",
    "open_lane",
    "close_lane",
)
FIELDS = ("visit_id", "lane_id", "manifest_id", "plate")


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_needs_what_the_document_says(action: str) -> None:
    # each field given, empty, null or left out: 256 bodies per action
    for values in itertools.product(("v-1", "", None, ...), repeat=len(FIELDS)):
        body: dict[str, Any] = {"action": action, "reason": "queue building up"}
        body |= {f: v for f, v in zip(FIELDS, values, strict=True) if v is not ...}
        assert _valid_by_the_document("ActionBody", body) == _taken(ActionBody, body), body
