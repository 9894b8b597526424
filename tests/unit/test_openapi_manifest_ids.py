"""A manifest id means the same to the OpenAPI document and to the API, wherever a client
sends one (a manifest, a booking, the manifest's path, a control-room action): the API takes
an id exactly when the document's schema (pattern and length, read as a generated client
reads them: ECMA-262, `$` the end of the text) takes it with the blanks around it dropped
(`streams.manifests.normalise_id`), and an id the document takes is taken as it is. Found
by a client's eye: the control-room action's `manifest_id` had no pattern in the document
(any 64 characters), though the API refused an id outside the alphabet."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import validators
from pydantic import BaseModel, TypeAdapter, ValidationError

from services.api.app import create_app
from services.api.booking_schemas import BookingRequest, ManifestIdPath
from services.control.routes import ActionBody
from streams.manifests import ID_PATTERN, ManifestV1

DOCUMENT = create_app(context_factory=lambda: None).openapi()
SCHEMAS = DOCUMENT["components"]["schemas"]


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Any:
    """`pattern` as ECMA-262 reads it: Python's `$` also matches before a final newline,
    a generated client's does not (jsonschema uses Python's `re`)."""
    if isinstance(instance, str):
        ecma = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
        if re.search(ecma, instance) is None:
            yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(Validator(schema | {"components": DOCUMENT["components"]}).is_valid(value))


def _model(model: type[BaseModel]) -> Callable[[Any], str | None]:
    def taken(body: Any) -> str | None:
        try:
            return str(model.model_validate(body).manifest_id)  # type: ignore[attr-defined]
        except ValidationError:
            return None

    return taken


def _path(value: Any) -> str | None:
    try:
        return str(TypeAdapter(ManifestIdPath).validate_python(value["manifest_id"]))
    except ValidationError:
        return None


_PATH_SCHEMA = {
    "type": "object",
    "properties": {
        "manifest_id": next(
            p["schema"]
            for p in DOCUMENT["paths"]["/v1/manifests/{manifest_id}"]["get"]["parameters"]
            if p["name"] == "manifest_id"
        )
    },
}
_ACTION = {"reason": "the driver's papers name it", "visit_id": "v-1"}
# (where, the document's schema of the whole body, a valid body, what the API takes)
PLACES: list[tuple[str, dict[str, Any], dict[str, Any], Callable[[Any], str | None]]] = [
    (
        "POST /v1/manifests",
        {"$ref": "#/components/schemas/ManifestV1"},
        SCHEMAS["ManifestV1"]["examples"][0],
        _model(ManifestV1),
    ),
    (
        "POST /v1/bookings",
        {"$ref": "#/components/schemas/BookingRequest"},
        SCHEMAS["BookingRequest"]["examples"][0],
        _model(BookingRequest),
    ),
    ("GET /v1/manifests/{manifest_id}", _PATH_SCHEMA, {}, _path),
    (
        "POST /control/api/actions pick_manifest",
        {"$ref": "#/components/schemas/ActionBody"},
        _ACTION | {"action": "pick_manifest"},
        _model(ActionBody),
    ),
    (
        "POST /control/api/actions hold",  # an action that does not need the id
        {"$ref": "#/components/schemas/ActionBody"},
        _ACTION | {"action": "hold"},
        _model(ActionBody),
    ),
]
# the id alphabet, its edges, blanks Python strips, letters and digits outside ASCII
ODD = [" ", "\t", "\n", "\r", "\xa0", "\u3000", "\x00", "/", "+", "#", "É", "ß", "١", "\u200b"]
ids = st.one_of(
    st.text(alphabet=st.sampled_from([*"Az09._:-", *ODD]), max_size=70),
    st.from_regex(ID_PATTERN, fullmatch=True).map(lambda s: s[:70]),
    st.tuples(
        st.sampled_from(["", " ", "\t", "\n "]),
        st.from_regex(ID_PATTERN, fullmatch=True),
        st.sampled_from(["", " ", "\n", "\xa0"]),
    ).map("".join),
)


@pytest.mark.parametrize(
    ("where", "schema", "body", "taken"), PLACES, ids=[place[0] for place in PLACES]
)
def test_the_document_and_the_api_take_the_same_manifest_ids(
    where: str,
    schema: dict[str, Any],
    body: dict[str, Any],
    taken: Callable[[Any], str | None],
) -> None:
    @settings(max_examples=400, derandomize=True, deadline=None)
    @given(ids)
    @example("MF-1")
    @example(" MF-1 ")
    @example("MF 1")
    @example("MF-1\n")
    @example("-MF")
    @example("a" * 64)
    @example("a" * 65)
    @example(" " + "a" * 64 + " ")
    @example("")
    @example("   ")
    def check(manifest_id: str) -> None:
        sent = body | {"manifest_id": manifest_id}
        kept = taken(sent)
        assert (kept is not None) == _valid(schema, body | {"manifest_id": manifest_id.strip()})
        if kept is not None:  # what the API keeps is what the document describes
            assert _valid(schema, body | {"manifest_id": kept}), (where, kept)
        if _valid(schema, sent):  # an id the document takes is taken as it is
            assert kept == manifest_id, where

    check()


def test_each_request_manifest_id_states_the_pattern() -> None:
    """No request's manifest id is left to any string of the right length."""
    for name in ("ManifestV1", "BookingRequest", "ActionBody"):
        field = SCHEMAS[name]["properties"]["manifest_id"]
        strings = [part for part in field.get("anyOf", [field]) if part.get("type") == "string"]
        assert strings and all("pattern" in part for part in strings), name
        assert all(part.get("maxLength") == 64 for part in strings), name
